/**
 * Area under the ROC curve by the rank-sum (Mann-Whitney U): the chance
 * that a random converter scores above a random non-converter, ties
 * counting one half.
 * @example computeAuc([3, 1, 2], [true, false, false]) // 1
 */
export function computeAuc(
  scores: readonly number[],
  outcomes: readonly boolean[],
): number | null {
  const items = scores.map((score, index) => ({
    score,
    positive: outcomes[index] === true,
  }))
  const positives = items.filter((item) => item.positive).length
  const negatives = items.length - positives
  if (positives === 0 || negatives === 0) return null

  items.sort((a, b) => a.score - b.score)
  let rankSumOfPositives = 0
  for (let start = 0; start < items.length;) {
    let end = start
    while (
      end + 1 < items.length &&
      items[end + 1]?.score === items[start]?.score
    )
      end++
    // Tied scores share the average of their ranks (1-based).
    const averageRank = (start + end) / 2 + 1
    for (let index = start; index <= end; index++) {
      if (items[index]?.positive) rankSumOfPositives += averageRank
    }
    start = end + 1
  }

  const u = rankSumOfPositives - (positives * (positives + 1)) / 2

  return u / (positives * negatives)
}
