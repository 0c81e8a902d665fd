#!/usr/bin/env node
// Entry point of the `tsbpf` binary.
import { program, reportError } from "./main.js";

program()
  .parseAsync(process.argv)
  .catch(async (e: unknown) => {
    process.exitCode = await reportError(e);
  });
