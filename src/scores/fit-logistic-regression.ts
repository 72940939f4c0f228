/**
 * L2-regularised logistic regression by Newton's method: small, exact for
 * the handful of criteria a score has. The intercept is not penalised.
 */
export interface LogisticModel {
  intercept: number
  coefficients: number[]
  iterations: number
}

/**
 * Fits P(y) = 1 / (1 + exp(-(b0 + x·b))) minimising the negative log
 * likelihood plus `lambda / 2 * |b|^2`.
 * @example fitLogisticRegression([[0], [1]], [false, true], { lambda: 1 })
 */
export function fitLogisticRegression(
  features: readonly (readonly number[])[],
  labels: readonly boolean[],
  options: { lambda?: number; maxIterations?: number; tolerance?: number } = {},
): LogisticModel {
  const lambda = options.lambda ?? 1
  const maxIterations = options.maxIterations ?? 50
  const tolerance = options.tolerance ?? 1e-9
  const width = (features[0]?.length ?? 0) + 1
  const weights = new Array<number>(width).fill(0)

  let iteration = 0
  for (; iteration < maxIterations; iteration++) {
    const gradient = new Array<number>(width).fill(0)
    const hessian = Array.from({ length: width }, () =>
      new Array<number>(width).fill(0),
    )

    features.forEach((row, index) => {
      const x = [1, ...row]
      const z = x.reduce((sum, value, j) => sum + value * (weights[j] ?? 0), 0)
      const p = 1 / (1 + Math.exp(-z))
      const y = labels[index] ? 1 : 0
      for (let j = 0; j < width; j++) {
        gradient[j] = (gradient[j] ?? 0) + (p - y) * (x[j] ?? 0)
        for (let k = 0; k < width; k++) {
          const rowOfHessian = hessian[j] as number[]
          rowOfHessian[k] =
            (rowOfHessian[k] ?? 0) + p * (1 - p) * (x[j] ?? 0) * (x[k] ?? 0)
        }
      }
    })
    for (let j = 1; j < width; j++) {
      gradient[j] = (gradient[j] ?? 0) + lambda * (weights[j] ?? 0)
      const rowOfHessian = hessian[j] as number[]
      rowOfHessian[j] = (rowOfHessian[j] ?? 0) + lambda
    }

    const step = solveLinearSystem(hessian, gradient)
    let largest = 0
    for (let j = 0; j < width; j++) {
      weights[j] = (weights[j] ?? 0) - (step[j] ?? 0)
      largest = Math.max(largest, Math.abs(step[j] ?? 0))
    }
    if (largest < tolerance) break
  }

  return {
    intercept: weights[0] ?? 0,
    coefficients: weights.slice(1),
    iterations: iteration + 1,
  }
}

// Gaussian elimination with partial pivoting; a singular direction gets 0.
function solveLinearSystem(matrix: number[][], vector: number[]): number[] {
  const n = vector.length
  const a = matrix.map((row, i) => [...row, vector[i] ?? 0])
  for (let column = 0; column < n; column++) {
    let pivot = column
    for (let row = column + 1; row < n; row++) {
      if (Math.abs(a[row]?.[column] ?? 0) > Math.abs(a[pivot]?.[column] ?? 0))
        pivot = row
    }
    ;[a[column], a[pivot]] = [a[pivot] as number[], a[column] as number[]]
    const lead = a[column]?.[column] ?? 0
    if (Math.abs(lead) < 1e-12) continue
    for (let row = 0; row < n; row++) {
      if (row === column) continue
      const factor = (a[row]?.[column] ?? 0) / lead
      for (let k = column; k <= n; k++) {
        const target = a[row] as number[]
        target[k] = (target[k] ?? 0) - factor * (a[column]?.[k] ?? 0)
      }
    }
  }

  return a.map((row, i) => {
    const lead = row[i] ?? 0
    return Math.abs(lead) < 1e-12 ? 0 : (row[n] ?? 0) / lead
  })
}
