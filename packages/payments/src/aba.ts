// ABA routing transit numbers: 8 digits of institution id and a check digit, the whole 9
// digits' 3-7-1 weighted sum a multiple of 10 (3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9)).
// One implementation for validation, NACHA and Fedwire; written here: it is a few lines,
// and no well-kept npm package offers it alone.

const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1] as const;

function weightedSum(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (weights[i] ?? 0);
  return sum;
}

/** The ninth digit for the first eight: (10 − Σ mod 10) mod 10, as moov-io/ach computes it. */
export function abaCheckDigit(firstEightDigits: string): string {
  if (!/^[0-9]{8}$/.test(firstEightDigits)) throw new RangeError(`"${firstEightDigits}" is not 8 digits`);
  return String((10 - (weightedSum(firstEightDigits) % 10)) % 10);
}

/** True for 9 digits passing the 3-7-1 checksum (121042882 passes, 123456789 fails). */
export function isValidAbaRoutingNumber(routingNumber: string): boolean {
  return /^[0-9]{9}$/.test(routingNumber) && weightedSum(routingNumber) % 10 === 0;
}
