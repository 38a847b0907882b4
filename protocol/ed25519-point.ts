/**
 * Just enough edwards25519 arithmetic (RFC 8032, BigInt) to judge a public key before trusting it:
 * decoding a point, adding and doubling in extended coordinates, and the eight points of the torsion
 * subgroup. node:crypto (OpenSSL) verifies with whatever point a key decodes to, and with a small-order
 * key a signature made without any private key verifies (the identity key with R = identity, S = 0
 * verifies for every message). Slow by design and never on the check-in path.
 */

/** The field prime 2^255 - 19. */
export const fieldPrime = 2n ** 255n - 19n;
const p = fieldPrime;

function mod(a: bigint): bigint {
  const r = a % p;
  return r >= 0n ? r : r + p;
}

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % p;
    b = (b * b) % p;
    e >>= 1n;
  }
  return result;
}

const inverse = (a: bigint): bigint => pow(a, p - 2n);
const d = mod(-121665n * inverse(121666n));
const twoD = mod(2n * d);
const sqrtMinusOne = pow(2n, (p - 1n) / 4n);

/** A point in extended coordinates: x = X/Z, y = Y/Z, x*y = T/Z. */
export interface EdwardsPoint {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;
}

export const identityPoint: EdwardsPoint = { X: 0n, Y: 1n, Z: 1n, T: 0n };

/** The y coordinate of a 32-byte encoding (bit 255 cleared) and its x sign bit. */
function splitEncoding(bytes: Uint8Array): { y: bigint; sign: number } {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
  return { y, sign: bytes[31]! >> 7 };
}

export type DecodeFailure = 'non_canonical' | 'not_on_curve';

/**
 * Decodes a 32-byte point encoding (RFC 8032 section 5.1.3), refusing the encodings other
 * implementations disagree on: y >= p, and x = 0 with the sign bit set.
 */
export function decodePoint(bytes: Uint8Array): EdwardsPoint | DecodeFailure {
  if (bytes.length !== 32) return 'not_on_curve';
  const { y, sign } = splitEncoding(bytes);
  if (y >= p) return 'non_canonical';
  const y2 = (y * y) % p;
  const u = mod(y2 - 1n);
  const v = mod(d * y2 + 1n);
  const v3 = (v * v * v) % p;
  let x = (u * v3 * pow(u * v3 * v3 * v, (p - 5n) / 8n)) % p;
  const vx2 = (v * x * x) % p;
  if (vx2 !== u) {
    if (vx2 !== mod(-u)) return 'not_on_curve';
    x = (x * sqrtMinusOne) % p;
  }
  if (x === 0n && sign === 1) return 'non_canonical';
  if (Number(x & 1n) !== sign) x = p - x;
  return { X: x, Y: y, Z: 1n, T: (x * y) % p };
}

/** The canonical 32-byte encoding of a point. */
export function encodePoint(point: EdwardsPoint): Uint8Array {
  const zInverse = inverse(point.Z);
  const x = mod(point.X * zInverse);
  let y = mod(point.Y * zInverse);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(y & 0xffn);
    y >>= 8n;
  }
  out[31]! |= Number(x & 1n) << 7;
  return out;
}

export function addPoints(a: EdwardsPoint, b: EdwardsPoint): EdwardsPoint {
  const A = mod((a.Y - a.X) * (b.Y - b.X));
  const B = mod((a.Y + a.X) * (b.Y + b.X));
  const C = mod(a.T * twoD * b.T);
  const D = mod(2n * a.Z * b.Z);
  const E = mod(B - A);
  const F = mod(D - C);
  const G = mod(D + C);
  const H = mod(B + A);
  return { X: mod(E * F), Y: mod(G * H), Z: mod(F * G), T: mod(E * H) };
}

export function doublePoint(a: EdwardsPoint): EdwardsPoint {
  const A = mod(a.X * a.X);
  const B = mod(a.Y * a.Y);
  const C = mod(2n * a.Z * a.Z);
  const H = mod(A + B);
  const sum = a.X + a.Y;
  const E = mod(H - sum * sum);
  const G = mod(A - B);
  const F = mod(C + G);
  return { X: mod(E * F), Y: mod(G * H), Z: mod(F * G), T: mod(E * H) };
}

export function isIdentity(point: EdwardsPoint): boolean {
  return mod(point.X) === 0n && mod(point.Y - point.Z) === 0n;
}

/** [8]P: the identity exactly when P lies in the torsion subgroup (has small order). */
export function timesCofactor(point: EdwardsPoint): EdwardsPoint {
  return doublePoint(doublePoint(doublePoint(point)));
}

/**
 * A point of order 8 (its y is the value libsodium's small-order blocklist lists); its multiples are the
 * whole torsion subgroup, so the eight points below are computed, not copied.
 */
const orderEightY = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;

function orderEightPoint(): EdwardsPoint {
  const encoded = new Uint8Array(32);
  let y = orderEightY;
  for (let i = 0; i < 32; i++) {
    encoded[i] = Number(y & 0xffn);
    y >>= 8n;
  }
  const point = decodePoint(encoded);
  if (typeof point === 'string') throw new Error('the order-8 point does not decode');
  return point;
}

/** The eight points of small order ([8]P = identity): [k]T for k = 0..7, T of order 8. */
export function torsionPoints(): EdwardsPoint[] {
  const generator = orderEightPoint();
  const points: EdwardsPoint[] = [identityPoint];
  for (let k = 1; k < 8; k++) points.push(addPoints(points[k - 1]!, generator));
  return points;
}
