import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from './sql-text.js';

describe('firstInvalidUtf8', () => {
  it('finds the first byte that starts no valid UTF-8 character', () => {
    expect(firstInvalidUtf8(Buffer.from('café', 'utf8'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from('café', 'latin1'))).toBe(3);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // a surrogate
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe2, 0x82]))).toBe(2); // cut short at the end
    expect(firstInvalidUtf8(Buffer.from('😀 ok', 'utf8'))).toBe(-1);
  });
});
