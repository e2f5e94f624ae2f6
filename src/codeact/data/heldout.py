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


def load(per_family: int = PER_FAMILY, seed: int = generators.HELDOUT_SEEDS.start
         ) -> list[Task]:
    """``per_family`` held-out tasks of each registered family, families interleaved."""
    fams = [generators.get(n) for n in generators.names()]
    return generators.interleave(fams, per_family * len(fams), seed, split="heldout")


def load_quick() -> list[Task]:
    return load(per_family=4)
