"""Checks a bitserial-run --profile table: every row's calls, shares that sum
to 100% (within rounding) and the total row.

    check_profile.py OUTPUT.txt CALLS
"""
import re
import sys

text = open(sys.argv[1]).read().split("profile of ", 1)[1].splitlines()[2:]
calls = int(sys.argv[2])
shares = 0.0
matmuls = 0
for line in text:
    fields = line.split()
    if not fields or fields[0] == "total":
        break
    share = float(re.fullmatch(r"(\d+\.\d)%", fields[-1]).group(1))
    assert float(fields[-2]) >= 0, line
    if fields[0] != "other":
        assert int(fields[-3]) == calls, line
    shares += share
    matmuls += fields[0] == "bitserial.matmul"
# Each share is rounded to 0.1%.
assert abs(shares - 100.0) <= 0.05 * len(text) + 0.05, shares
print(f"shares sum to 100.0%, {matmuls} bitserial.matmul rows")
