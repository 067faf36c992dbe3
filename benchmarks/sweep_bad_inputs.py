"""Feed every registered bad input to the package and count what it does with each.

The cases (benchmarks/bad_input_cases/) run one after another in a child process that
this script watches: a case that runs past its timeout is a hang (the child is killed
and a new one takes the next case), a child that dies is a crash. Every other outcome
is judged in the child (clear error, fallback, handled, silent wrong result, unclear
error; see bad_input_cases/_registry.py).

Writes benchmarks/results/bad_inputs.md (outcomes per area) and bad_inputs_cases.md
(every case, its outcome and what the package said).

    python benchmarks/sweep_bad_inputs.py                 # every case (about N minutes)
    python benchmarks/sweep_bad_inputs.py --only "cache: "  # the cases whose id starts so
    python benchmarks/sweep_bad_inputs.py --list
"""

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_results  # noqa: E402
from bad_input_cases import load_all  # noqa: E402
from bad_input_cases._registry import FAILURES, OUTCOMES  # noqa: E402

COMMAND = "python benchmarks/sweep_bad_inputs.py"
# The child's answers start with this; other lines on its output are what cases printed.
MARK = "@@bad-input@@ "


def child():
    """Read case ids on stdin; print one JSON line per case (id, outcome, message)."""
    from bad_input_cases._registry import judge

    cases = load_all()
    print(MARK + json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        case_id = line.rstrip("\n")
        start = time.perf_counter()
        outcome, message = judge(cases[case_id])
        seconds = round(time.perf_counter() - start, 2)
        answer = {"id": case_id, "outcome": outcome, "message": message, "s": seconds}
        print(MARK + json.dumps(answer), flush=True)


class Child:
    """The watched child process: one case at a time, each under its timeout."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # cases' own progress bars and logs
            text=True,
            bufsize=1,
        )
        self._read(timeout=300)  # the imports

    def run(self, entry):
        self.process.stdin.write(entry.id + "\n")
        self.process.stdin.flush()
        return self._read(entry.timeout)

    def _read(self, timeout):
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                if not selector.select(timeout):
                    raise TimeoutError
                line = self.process.stdout.readline()
                if not line:
                    raise ChildProcessError(self.process.wait())
                if line.startswith(MARK):  # anything else is what a case printed
                    return json.loads(line[len(MARK) :])

    def close(self):
        self.process.kill()
        self.process.wait()


def sweep(cases):
    results, child = [], None
    for number, entry in enumerate(cases, 1):
        child = child or Child()
        start = time.perf_counter()
        try:
            result = child.run(entry)
        except TimeoutError:
            child.close()
            child = None
            result = {
                "id": entry.id,
                "outcome": "hang",
                "message": f"no answer in {entry.timeout:.0f} s",
            }
        except ChildProcessError as exc:
            child = None
            result = {
                "id": entry.id,
                "outcome": "crash",
                "message": f"the process died (status {exc.args[0]})",
            }
        result.setdefault("s", round(time.perf_counter() - start, 2))
        results.append({**result, "area": entry.area, "expect": entry.expect})
        mark = "" if result["outcome"] not in FAILURES else "  <--"
        print(f"[{number}/{len(cases)}] {result['outcome']:<19} {entry.id}{mark}", flush=True)
    if child:
        child.close()
    return results


def write(results, seconds):
    areas = sorted({row["area"] for row in results})
    table = []
    for area in [*areas, "all"]:
        counts = Counter(row["outcome"] for row in results if area in ("all", row["area"]))
        table.append(
            {"area": area, "cases": sum(counts.values()), **{o: counts[o] for o in OUTCOMES}}
        )
    failures = sum(table[-1][outcome] for outcome in FAILURES)
    write_results(
        "bad_inputs",
        COMMAND,
        table,
        notes=[
            f"{failures} cases ended in {', '.join(FAILURES)} (the outcomes to have none of).",
            f"Every case, its outcome and message: bad_inputs_cases.md; {seconds:.0f} s in all.",
            "clear error: refused, naming the item and the fix; fallback: the documented fallback "
            "with its warning; handled: accepted and checked right.",
        ],
    )
    lines = [
        "# bad_inputs_cases",
        "",
        f"Command: `{COMMAND}`",
        "",
        "| case | expected | outcome | message |",
        "|---|---|---|---|",
    ]
    for row in results:
        message = row["message"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {row['id']} | {row['expect']} | {row['outcome']} | {message} |")
    (RESULTS / "bad_inputs_cases.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "bad_inputs_cases.json").write_text(json.dumps(results, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the cases whose id starts with this (e.g. 'cache: ')")
    parser.add_argument("--list", action="store_true", help="print the case ids and exit")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child()
    cases = [
        entry for entry in load_all().values() if not args.only or entry.id.startswith(args.only)
    ]
    if args.list:
        print("\n".join(entry.id for entry in cases))
        print(f"{len(cases)} cases")
        return None
    start = time.perf_counter()
    results = sweep(cases)
    if args.only:  # a partial run is for looking at, not for the results folder
        failed = [row for row in results if row["outcome"] in FAILURES]
        for row in failed:
            print(f"\n{row['outcome']}: {row['id']}\n    {row['message']}")
        print(f"\n{len(failed)} of {len(results)} failed")
        return None
    write(results, time.perf_counter() - start)
    return None


if __name__ == "__main__":
    main()
