"""The held-out generated tasks as a bench suite, for evaluating a fine-tuned model.

``codeact bench --suite codeact.data.heldout:load`` runs :data:`PER_FAMILY` tasks of
every generator family from the first held-out seed, over all kinds (the held-out kinds
included; ``metadata["unseen_kind"]`` marks them). ``load_quick`` takes 4 per family.
This suite is deliberately not registered with the bench's built-in names: it comes from
the same templates as the training data, so decontamination must not compare with it.
"""

from __future__ import annotations

from codeact.bench.task import Task
from codeact.data import generators

PER_FAMILY = 25

# The held-out kinds, declared here before any model has run on them: a kind moves in or
# out of this table only by an edit that shows in review, and a test checks that every
# built-in family's ``heldout_kinds`` matches it (data from a kind once trained on can
# never measure transfer again).
DECLARED_HELDOUT_KINDS: dict[str, tuple[str, ...]] = {
    "coding": ("parsing",),
    "files": ("csv_join",),
    "math": ("sequences",),
    "tools": ("calendar",),
    "frames": ("reshape",),
    "apis": ("auction",),
}


def load(per_family: int = PER_FAMILY, seed: int = generators.HELDOUT_SEEDS.start
         ) -> list[Task]:
    """``per_family`` held-out tasks of each registered family, families interleaved."""
    fams = [generators.get(n) for n in generators.names()]
    return generators.interleave(fams, per_family * len(fams), seed, split="heldout")


def load_quick() -> list[Task]:
    return load(per_family=4)
