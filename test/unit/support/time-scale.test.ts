// TSBPF_TIME_SCALE: unset means 1; a slowdown factor below 1 or not a number is refused by name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { timeScale } from "../../support/time-scale.js";

test("timeScale: unset or empty is 1, a factor >= 1 is taken as is", () => {
  assert.equal(timeScale({}), 1);
  assert.equal(timeScale({ TSBPF_TIME_SCALE: "" }), 1);
  assert.equal(timeScale({ TSBPF_TIME_SCALE: "10" }), 10);
  assert.equal(timeScale({ TSBPF_TIME_SCALE: "2.5" }), 2.5);
});

test("timeScale: anything else names the variable", () => {
  for (const bad of ["0.5", "0", "-3", "fast", "Infinity"])
    assert.throws(
      () => timeScale({ TSBPF_TIME_SCALE: bad }),
      new RegExp(`TSBPF_TIME_SCALE must be a number >= 1 .*"${bad}"`),
    );
});
