import { describe, expect, it } from 'vitest'

import { fitLogisticRegression } from './fit-logistic-regression.js'

describe('fitLogisticRegression', () => {
  it('finds the closed-form fit of one binary feature without penalty', () => {
    // x=0: 1 of 4 convert; x=1: 3 of 4. Unpenalised, the fit reproduces
    // the rates: b0 = logit(1/4) = -ln 3, b0 + b1 = logit(3/4) = ln 3.
    const features = [[0], [0], [0], [0], [1], [1], [1], [1]]
    const labels = [true, false, false, false, true, true, true, false]
    const model = fitLogisticRegression(features, labels, { lambda: 0 })

    expect(model.intercept).toBeCloseTo(-Math.log(3), 6)
    expect(model.coefficients[0]).toBeCloseTo(2 * Math.log(3), 6)
  })

  it('shrinks coefficients toward zero as lambda grows and keeps their sign', () => {
    const features = [
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
      [1, 1],
      [0, 1],
    ]
    const labels = [false, true, true, false, true, false]
    const weak = fitLogisticRegression(features, labels, { lambda: 0.1 })
    const strong = fitLogisticRegression(features, labels, { lambda: 10 })

    expect(Math.abs(strong.coefficients[0] ?? 0)).toBeLessThan(
      Math.abs(weak.coefficients[0] ?? 0),
    )
    expect(Math.sign(strong.coefficients[0] ?? 0)).toBe(1)
  })

  it('stays finite when the classes separate perfectly, thanks to the penalty', () => {
    const model = fitLogisticRegression(
      [[0], [0], [1], [1]],
      [false, false, true, true],
      { lambda: 1 },
    )
    expect(Number.isFinite(model.coefficients[0])).toBe(true)
    expect(model.coefficients[0]).toBeGreaterThan(0)
  })
})
