// Return codes of XDP, TC and socket programs. Their values are folded as constants by
// src/compiler/module/consteval.ts and used by src/compiler/lower/intrinsics.ts (redirect).

// Return codes

export const XdpAction = { Aborted: 0, Drop: 1, Pass: 2, Tx: 3, Redirect: 4 } as const;
export type XdpAction = (typeof XdpAction)[keyof typeof XdpAction];

export const TcAction = {
  Unspec: -1,
  Ok: 0,
  Reclassify: 1,
  Shot: 2,
  Pipe: 3,
  Stolen: 4,
  Redirect: 7,
} as const;
export type TcAction = (typeof TcAction)[keyof typeof TcAction];

export const SkAction = { Drop: 0, Pass: 1 } as const;
export type SkAction = (typeof SkAction)[keyof typeof SkAction];
