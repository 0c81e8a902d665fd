// Small fd helpers for links that must keep their own reference to a caller's object.
export { dupFd } from "../sys/fd.js";
