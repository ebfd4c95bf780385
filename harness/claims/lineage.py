"""Where a printed value comes from: the lesson's statements in reader order, which of them
draw random numbers, and whether a seed fixes them for a reader."""

from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass, field

from harness.lesson import Lesson

_RANDOM_CALLS = frozenset(
    {
        "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
        "normal", "normal_", "uniform_", "bernoulli", "bernoulli_", "multinomial", "poisson",
        "random_", "exponential_", "geometric_", "cauchy_", "log_normal_", "dropout",
        "shuffle", "choice", "choices", "sample", "rsample", "random", "uniform", "gauss",
        "permutation", "random_split", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "sparse_",
    }
)  # fmt: skip
SEEDED = "seeded: "  # a note that holds on CPU only: seeded random numbers differ elsewhere
MAX_LINEAGE = 500  # statements looked back through for where a printed value comes from
_SEED_CALLS = frozenset({"manual_seed", "seed", "set_seed", "manual_seed_all"})
# nn layers whose construction draws no random numbers (activations, losses, pooling, norms)
_PLAIN_LAYERS = re.compile(
    r"(?:ReLU\d*|LeakyReLU|PReLU|ELU|SELU|CELU|GELU|SiLU|Mish|Sigmoid|Tanh|Softmax\d*d?|"
    r"LogSoftmax|Softplus|Softsign|Hardtanh|Hardswish|Hardsigmoid|Threshold|Identity|Flatten|"
    r"Unflatten|Sequential|ModuleList|ModuleDict|ParameterList|ParameterDict|\w*Loss|"
    r"\w*Pool\d?d?|Upsample\w*|\w*Pad\d?d|BatchNorm\w*|LayerNorm|GroupNorm|InstanceNorm\w*|"
    r"PixelShuffle|PixelUnshuffle|ChannelShuffle|CosineSimilarity|PairwiseDistance)"
)


@dataclass
class Lineage:
    """Top-level statements of a lesson in reader order: where a printed value comes from."""

    # (block, statement, the names it defines, the names it uses or changes)
    statements: list[tuple[int, ast.stmt, frozenset[str], frozenset[str]]]
    random_names: frozenset[str]  # functions and classes whose body draws random numbers
    first_seed: dict[int, int]  # block -> index of its first statement that sets a seed
    starts: list[int] = field(default_factory=list)  # each statement's first line, ascending
    draws: list[bool] = field(default_factory=list)  # each statement draws random numbers

    def __post_init__(self) -> None:
        self.starts = [node.lineno for _, node, _, _ in self.statements]
        self.draws = [
            not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and draws(node, self.random_names)
            for _, node, _, _ in self.statements
        ]

    @classmethod
    def of(cls, lesson: Lesson) -> Lineage:
        from harness.static import depends  # depends imports this module

        found: list[tuple[int, ast.stmt, frozenset[str], frozenset[str]]] = []
        for fence in lesson.python_fences:
            for statement in depends.statements(fence):
                uses = statement.uses | statement.changes
                found.append((fence.line, statement.node, statement.defines, uses))
        definitions = [
            child
            for _, node, _, _ in found
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            for child in ast.walk(node)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        random: set[str] = set()
        changed = True
        while changed:  # a class that builds a random layer, a function that calls it
            changed = False
            for child in definitions:
                if child.name not in random and draws(child, random):
                    random.add(child.name)
                    changed = True
        first_seed: dict[int, int] = {}
        for index, (block, node, _, _) in enumerate(found):
            if block not in first_seed and _seeds(node):
                first_seed[block] = index
        return cls(found, frozenset(random), first_seed)

    def note(self, block: int, stmt: ast.stmt) -> str:
        """Why a printed value at ``stmt`` may differ from the reader's: it comes from random
        numbers that the lesson's own seed does not fix for this run ('' when it does)."""
        at = bisect.bisect_right(self.starts, stmt.lineno) - 1
        if at < 0 or self.statements[at][0] != block:
            return ""
        top = self.statements[at][1]
        inside = isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        needed = set(self.statements[at][3])
        seeded = ""  # seeded random numbers: the same on CPU, not on another device
        chain = [at]
        for index in range(at - 1, max(-1, at - 1 - MAX_LINEAGE), -1):
            _, node, defines, uses = self.statements[index]
            if defines & needed or (uses & needed and isinstance(node, ast.Expr)):
                chain.append(index)
                needed |= uses
        if inside:  # a print in a function: any value it is given may be random
            chain = list(range(at, max(-1, at - 1 - MAX_LINEAGE), -1))
        for index in chain:
            where, node, _, _ = self.statements[index]
            if not self.draws[index]:
                continue
            if self.first_seed.get(where, index + 1) > index:
                return (
                    f"the value comes from random numbers drawn at line {node.lineno} with no "
                    "seed set before them in that block: a reader's values differ"
                )
            seeded = SEEDED + f"random numbers drawn at line {node.lineno}"
        return seeded


class Lazy:
    """A lesson's lineage, made the first time a claim needs it."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.made: Lineage | None = None

    def get(self) -> Lineage:
        if self.made is None:
            self.made = Lineage.of(self.lesson)
        return self.made


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def draws(node: ast.AST, random: frozenset[str] | set[str]) -> bool:
    """Whether code draws random numbers: torch.rand*, random.*, an nn layer with weights,
    a call of a lesson function or class that does."""
    for child in ast.walk(node):
        if not isinstance(child, ast.Call):
            continue
        name = _call_name(child)
        func = child.func
        if name in _RANDOM_CALLS or name in random:
            return True
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("random", "nn")
            and not (func.value.id == "nn" and _PLAIN_LAYERS.fullmatch(name))
        ):
            return True
        if name == "DataLoader" and any(
            k.arg == "shuffle" and not (isinstance(k.value, ast.Constant) and not k.value.value)
            for k in child.keywords
        ):
            return True
    return False


def _seeds(node: ast.AST) -> bool:
    return any(isinstance(c, ast.Call) and _call_name(c) in _SEED_CALLS for c in ast.walk(node))
