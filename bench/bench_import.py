"""`dondoc plan import` of 50,000-row plans (XLSX, CSV, DOCX): time and peak memory.

Target (issue 16): 50,000 rows in under 30 s and 400 MB. Each import runs the real CLI
in its own process with a fresh SQLite store, so its peak resident memory is its own
(os.wait4). 25,000 rows run too: the ratio of the two times shows the import stays
linear. Deadline phrases repeat as in real plans (a handful of distinct ones), titles
do not.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (25_000, 50_000)
# A Word table is held whole in memory by python-docx, so the reader caps its XML at
# 25 MB (dondoc.planfile.model.Limits): 50,000 rows are refused there, by design.
SIZES_BY_KIND = {"docx": (10_000, 20_000)}
TARGET_SECONDS = 30.0
TARGET_MB = 400.0
HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm", "Thời hạn"]
LEADS = ("Sở Tư pháp", "Sở Nội vụ", "Sở Y tế", "Sở Tài chính", "Văn phòng UBND tỉnh")
DEADLINES = ("Tháng 12/2025", "Thường xuyên", "Hàng quý", "Quý II/2026", "Năm 2026")


def rows(count: int) -> list[list[str]]:
    return [
        [
            str(n),
            f"Nhiệm vụ số {n}: rà soát, đơn giản hóa thủ tục hành chính nội bộ",
            LEADS[n % len(LEADS)],
            LEADS[(n + 1) % len(LEADS)],
            "Báo cáo",
            DEADLINES[n % len(DEADLINES)],
        ]
        for n in range(1, count + 1)
    ]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows(count)])


def write_xlsx(path: Path, count: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Phụ lục")
    sheet.append(HEADER)
    for row in rows(count):
        sheet.append(row)
    workbook.save(path)


def write_docx(path: Path, count: int) -> None:
    import docx

    document = docx.Document()
    data = [HEADER, *rows(count)]
    table = document.add_table(rows=len(data), cols=len(HEADER))
    for tr, values in zip(table.rows, data, strict=True):
        for cell, value in zip(tr.cells, values, strict=True):
            cell.text = value
    document.save(str(path))


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "docx": write_docx}


def run_import(home: Path, path: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak MB and exit code of one `dondoc plan import` in a
    fresh store. CPU time is what a busy machine does not inflate."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env["DONDOC_DATA_DIR"] = str(home / "data")
    command = [sys.executable, "-m", "dondoc"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "plan", "import", str(path), "--plan", "bench"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if process.stderr is not None:
        error = process.stderr.read().decode()
        process.stderr.close()
        if status:
            print(error[-2000:], file=sys.stderr)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main(kinds: tuple[str, ...] = ("csv", "xlsx", "docx")) -> None:
    print("plan import: seconds and peak MB per format and size")
    print(f"{'format':>6} {'rows':>7} {'seconds':>8} {'cpu s':>8} {'peak MB':>8}  verdict")
    for kind in kinds:
        times: dict[int, float] = {}
        sizes = SIZES_BY_KIND.get(kind, SIZES)
        for size in sizes:
            with tempfile.TemporaryDirectory() as folder:
                home = Path(folder)
                path = home / f"plan.{kind}"
                WRITERS[kind](path, size)
                seconds, cpu, peak, code = run_import(home, path)
            times[size] = cpu
            # CPU time: on a shared machine the wall clock also counts other processes.
            ok = code == 0 and cpu < TARGET_SECONDS and peak < TARGET_MB
            verdict = "ok" if ok else f"MISSED (exit {code})"
            print(f"{kind:>6} {size:>7} {seconds:>8.1f} {cpu:>8.1f} {peak:>8.0f}  {verdict}")
        small, large = sizes
        print(f"{kind:>6} cpu time ratio {large}/{small} rows: {times[large] / times[small]:.2f}")


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("csv", "xlsx", "docx"))
