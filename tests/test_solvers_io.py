"""Writing .mps and .lp files, read back by plain highspy."""

import numpy as np
import pytest
import scipy.sparse as sp
from test_solvers import PARAMS, backend_factory, wyndor

from solvers import Status
from solvers._highs import new_highs

pytestmark = pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated:DeprecationWarning")


@pytest.fixture(params=PARAMS)
def make(request):
    """One backend case as a factory (see test_solvers.CASES)."""
    return backend_factory(request.param)


def read_back(path) -> float:
    h = new_highs()  # a plain highspy.Highs, quiet
    assert h.readModel(str(path)).name in ("kOk", "kWarning")
    h.run()
    assert h.getModelStatus().name == "kOptimal"
    return h.getInfo().objective_function_value


@pytest.mark.parametrize("suffix", ["mps", "lp"])
@pytest.mark.parametrize("sense", ["max", "min"])
def test_write_and_read_back(make, tmp_path, suffix, sense):
    lp, _ = wyndor(sense)  # names with spaces, an offset, every kind of row and column
    be = make(lp)
    path = tmp_path / f"model.{suffix}"
    if f"write_{suffix}" not in be.features:
        with pytest.raises(NotImplementedError):
            be.write(path)
        return
    be.add_rows(sp.csr_array(np.array([[1.0, 1, 0, 0]])), 0, 7.5, names=["x + y"])
    res = be.solve()
    assert res.status is Status.OPTIMAL
    be.write(path)
    assert read_back(path) == pytest.approx(res.objective, abs=1e-6)
    assert be.solve().objective == pytest.approx(res.objective, abs=1e-6)  # writing changed nothing


def test_write_needs_a_known_suffix(make, tmp_path):
    be = make(wyndor()[0])
    with pytest.raises(ValueError, match="suffix"):
        be.write(tmp_path / "model.txt")
