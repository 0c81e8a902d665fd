// cargo-bpf's event dump format (the `hexdump` crate's layout):
//   |3cf2510a ac1f0bed c3fd401f 42000000| <.Q.......@.B... 00000000
//   |5454502f 31000000 00000000|          TTP/1.......     00000060
//                                                          0000006c
// 16 bytes a line in four groups of four, the printable ASCII, the offset; a final line
// with the total length.

const HEX_WIDTH = 35; // "xxxxxxxx xxxxxxxx xxxxxxxx xxxxxxxx"
const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

const printable = (b: number): string => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".");

export function hexdumpLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const groups: string[] = [];
    for (let g = 0; g < row.length; g += 4)
      groups.push(
        Array.from(row.subarray(g, g + 4), (b) => b.toString(16).padStart(2, "0")).join(""),
      );
    const hex = groups.join(" ");
    const ascii = Array.from(row, printable).join("");
    lines.push(`|${hex}|${" ".repeat(HEX_WIDTH - hex.length)} ${ascii.padEnd(16)} ${hex8(off)}`);
  }
  lines.push(`${" ".repeat(HEX_WIDTH + 2 + 1 + 16 + 1)}${hex8(bytes.length)}`);
  return lines;
}

export const hexdump = (bytes: Uint8Array): string => hexdumpLines(bytes).join("\n");
