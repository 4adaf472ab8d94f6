/**
 * Shell-style `*` and `?` patterns for LIST/NLST arguments (mget clients send them),
 * matched in time linear in the name, whatever the pattern: the pattern is run as
 * a set of states advanced together one character at a time (a bit-parallel NFA),
 * never by backtracking, which a pattern such as `*a*a*a*a*a*b` against a long run
 * of `a`s turns exponential. Patterns are at most MAX_GLOB_LENGTH characters, so a
 * step costs at most a few machine words.
 */
export const MAX_GLOB_LENGTH = 256;

const ANY = -1;

export class GlobPattern {
  /** Bit j of a state set: the first j literal positions have been matched. */
  readonly #words: number;
  /** States j with a `*` right after position j-1: they may consume any character and stay. */
  readonly #loops: Uint32Array;
  /** States j whose next position is `?`: they advance on any character. */
  readonly #anyAdvance: Uint32Array;
  /** Per code point: states whose next position is that character (or `?`). */
  readonly #advance = new Map<number, Uint32Array>();
  readonly #accept: number;

  private constructor(positions: readonly number[], loops: readonly boolean[]) {
    const states = positions.length + 1;
    this.#words = Math.ceil(states / 32);
    this.#loops = new Uint32Array(this.#words);
    this.#anyAdvance = new Uint32Array(this.#words);
    loops.forEach((loop, state) => {
      if (loop) setBit(this.#loops, state);
    });
    positions.forEach((position, state) => {
      if (position === ANY) setBit(this.#anyAdvance, state);
    });
    positions.forEach((position, state) => {
      if (position === ANY) return;
      let mask = this.#advance.get(position);
      if (mask === undefined) {
        mask = Uint32Array.from(this.#anyAdvance);
        this.#advance.set(position, mask);
      }
      setBit(mask, state);
    });
    this.#accept = positions.length;
  }

  /** The pattern, or undefined when it is longer than MAX_GLOB_LENGTH characters. */
  static parse(pattern: string): GlobPattern | undefined {
    const characters = [...pattern];
    if (characters.length > MAX_GLOB_LENGTH) return undefined;
    const positions: number[] = [];
    const loops: boolean[] = [false];
    for (const character of characters) {
      if (character === '*') {
        loops[positions.length] = true;
        continue;
      }
      positions.push(character === '?' ? ANY : character.codePointAt(0)!);
      loops.push(false);
    }
    return new GlobPattern(positions, loops);
  }

  matches(name: string): boolean {
    const words = this.#words;
    let current = new Uint32Array(words);
    let next = new Uint32Array(words);
    current[0] = 1;
    for (const character of name) {
      const advance = this.#advance.get(character.codePointAt(0)!) ?? this.#anyAdvance;
      let carry = 0;
      let alive = 0;
      for (let word = 0; word < words; word += 1) {
        const state = current[word]!;
        const moved = state & advance[word]!;
        // Shifting the whole set left by one state: bit 31 of a word carries into the next.
        const value = ((moved << 1) | carry | (state & this.#loops[word]!)) >>> 0;
        carry = moved >>> 31;
        next[word] = value;
        alive |= value;
      }
      if (alive === 0) return false;
      [current, next] = [next, current];
    }
    return (current[this.#accept >>> 5]! & (1 << (this.#accept & 31))) !== 0;
  }
}

export function hasGlob(name: string): boolean {
  return name.includes('*') || name.includes('?');
}

function setBit(set: Uint32Array, bit: number): void {
  set[bit >>> 5] = (set[bit >>> 5] ?? 0) | (1 << (bit & 31));
}
