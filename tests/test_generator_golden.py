"""The generator's output is pinned: same arguments, byte-identical scenario.

The hashes were computed from ``models.dumps(generate(m, g, seed), "json")``
before ``generate_tables`` was split into per-table steps (issue 13), so a
refactor that changes any table, any figure or the order of the random draws
fails here. A deliberate change to the generator updates these hashes.
"""

import hashlib

import pytest

import models
from models.generator import generate

GOLDEN = {
    (1, 1, 0): "1f5fa08a72278d6c1d72700b356242fc70834718bc06445220972d7d2c0a3485",
    (2, 3, 1): "f2ae76565b60701bd3442511cd7d27db055d22a0f4823626644b915063a42b74",
    (5, 5, 0): "7322a837f94d0eea9017249c7497c17861f29122aa1eb4808e94962ac3a54307",
    (5, 5, 7): "c76afd7635269dec3aaa27a00b122bb4a721cb3a069f07be421d186343dedc75",
    (12, 9, 3): "aa0c98c276663c24face77aba0046cf782ef5b8f639c809d4b6b29539e197d73",
    (30, 40, 0): "11d1b8e2666d44181e59c1aefcf6010bd954b90514ab7646b55813966b0dea0c",
    (31, 20, 2): "7b497143544d88e4f368f19eb2c219e983d55bc7f91ba5099d0b6409a796fcf0",
    (60, 30, 5): "f2943a0a17306a2be7eacda74728e4a175e5f8207236898ead111f6351047121",
    (210, 25, 4): "a17fd9bcb443b9427e581f95d007aac8cebaa76fabb5e7f4f194d38259597604",
}


# (30, 40, 0) gives another scenario on the machine of 2026-12-06, from the same code (the
# commit 6069663, green on 2026-12-05, reproduces it there); not from the versions of numpy
# (2.3.5, 2.4.5, 2.4.6), scipy (1.16.3, 1.17.0, 1.17.1), pandas (3.0.6, 3.1.0, 3.1.1) or
# PyYAML (6.0.3, 6.0.4) tried there, nor from PYTHONHASHSEED. Both outputs are known; which
# platform difference decides between them was not found (issue 14's closing note).
PLATFORM = {
    (30, 40, 0): "4809f4eef818f59034b62b00039c303a7b4ad37d524533cee1812f67c0291261",
}


@pytest.mark.parametrize(("m", "g", "seed"), sorted(GOLDEN))
def test_generator_output_is_pinned(m, g, seed):
    text = models.dumps(generate(m, g, seed), "json")
    known = {GOLDEN[(m, g, seed)], PLATFORM.get((m, g, seed))} - {None}
    assert hashlib.sha256(text).hexdigest() in known
