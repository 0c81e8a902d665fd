// The addon's install error, apart from native.ts so the library can export it without
// importing the addon loader (only src/sys imports native.ts).

import { TsbpfError } from "../errors.js";

/** The native addon cannot be found or loaded (an install problem): the message says how to fix it. */
export class AddonError extends TsbpfError {
  override readonly name = "AddonError";
}
