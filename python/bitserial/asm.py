"""Statistics of the popcount kernels in an AArch64 or x86 assembly listing.

`python -m bitserial.asm FILE.s` prints one line per function with the
counts the lit tests and the cost model check: the hottest basic block (the
one with the most popcount instructions), its instruction count, the stack
accesses between its first and last popcount, widening instructions
anywhere in the function, and the pairwise widening adds in the hottest
block.
"""

import re
import sys
from dataclasses import dataclass, field
from typing import List

POPCOUNT = re.compile(r"^\s*(cnt|vpopcntq|vpshufb|popcnt)\b")
STACK = re.compile(r"\[sp\b|\(%rsp\)")
LABEL = re.compile(r"^([.\w$]+):")
# Portable widening chains (what uaddlp/uadalp replace).
WIDENING_CHAIN = re.compile(r"^\s*(ushll2?|uxtl2?|zip[12])\b")
PAIRWISE = re.compile(r"^\s*(uaddlp|uadalp)\b")


@dataclass
class Block:
    label: str
    lines: List[str] = field(default_factory=list)

    def popcounts(self) -> int:
        return sum(1 for line in self.lines if POPCOUNT.match(line))

    def stack_between_popcounts(self) -> int:
        idx = [i for i, line in enumerate(self.lines) if POPCOUNT.match(line)]
        if not idx:
            return 0
        return sum(1 for line in self.lines[idx[0]:idx[-1] + 1]
                   if STACK.search(line))


@dataclass
class Function:
    name: str
    blocks: List[Block] = field(default_factory=list)

    def instructions(self):
        for block in self.blocks:
            yield from block.lines

    def hottest(self) -> Block:
        return max(self.blocks, key=Block.popcounts)


def is_instruction(line: str) -> bool:
    text = line.strip()
    return (line.startswith("\t") and text != "" and not text.startswith(".")
            and not text.startswith("//") and not text.startswith("#"))


def parse(text: str) -> List[Function]:
    """Functions (symbols declared @function) and their basic blocks."""
    functions: List[Function] = []
    current = None
    for line in text.splitlines():
        m = LABEL.match(line)
        if m:
            label = m.group(1)
            if not label.startswith(".L"):
                current = Function(label)
                functions.append(current)
            if current is not None:
                current.blocks.append(Block(label))
            continue
        if current is not None and is_instruction(line):
            current.blocks[-1].lines.append(line.split("//")[0].rstrip())
    return [f for f in functions if any(b.lines for b in f.blocks)]


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bitserial.asm FILE.s", file=sys.stderr)
        return 2
    for function in parse(open(argv[1]).read()):
        hot = function.hottest()
        if hot.popcounts() == 0:
            continue
        lines = list(function.instructions())
        print(f"{function.name}: hot-block-popcounts={hot.popcounts()} "
              f"hot-block-instructions={len(hot.lines)} "
              f"stack-between-popcounts={hot.stack_between_popcounts()} "
              f"pairwise-adds={sum(1 for l in lines if PAIRWISE.match(l))} "
              f"widening-chains={sum(1 for l in lines if WIDENING_CHAIN.match(l))} "
              f"hot-block-pairwise-adds={sum(1 for l in hot.lines if PAIRWISE.match(l))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
