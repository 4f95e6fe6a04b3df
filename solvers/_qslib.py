"""The exact basic solution of a basis, from QSopt_ex's library: ``python -m solvers._qslib``.

``python -m solvers._qslib PROBLEM.mps BASIS.bas SOLUTION.sol`` reads the programme and
the basis esolver was given, checks the basis in rational arithmetic
(``QSexact_basis_optimalstatus``: its basic solution primal and dual feasible), and
writes that basic solution (x, row duals, reduced costs, the objective) in esolver's
own solution format, exactly. Exit status 0: written; 3: the basis is not optimal;
2: the library failed.

Why: QSopt_ex 2.5.10's ``QSexact_solver`` (esolver) outputs a solution after a
rational check that finds a basis optimal only when its double-precision pass had
called the programme optimal. When that pass calls it infeasible (a primal
infeasibility of about 1e-6 in doubles, on the README's 200 x 100 certificate), the
check can still find the basis exactly optimal, and esolver then goes on in its
multi-precision simplex regardless, for over 17 minutes there (bench/NOTES.md,
sixteenth session). :mod:`solvers._exact` stops it there and asks this module.

It runs in its own process: the library prints its messages on its standard output
and a fault in it must not take the planner with it. The library is Debian's
``libqsopt-ex2`` (a dependency of ``qsopt-ex``, which ``make install`` installs) and
GMP; the numbers leave it as GMP's decimal strings (``p/q``), never as floats.
"""

from __future__ import annotations

import ctypes as C
import sys
from fractions import Fraction

LIBRARY = "libqsopt_ex.so.2"
GMP = "libgmp.so.10"
_MPQ = C.c_byte * 32  # sizeof(mpq_t) on 64-bit Linux: two mpz_t of 16 bytes


class _Lib:
    def __init__(self):
        gmp = C.CDLL(GMP)
        self.qs = qs = C.CDLL(LIBRARY)
        # GMP's own names (a class body would mangle ``gmp.__gmpq_init``)
        self.q_init = getattr(gmp, "__gmpq_init")
        self.q_init.argtypes = [C.c_void_p]
        self.q_str = getattr(gmp, "__gmpq_get_str")
        self.q_str.restype = C.c_void_p
        self.q_str.argtypes = [C.c_char_p, C.c_int, C.c_void_p]
        self.z_size = getattr(gmp, "__gmpz_sizeinbase")
        self.z_size.argtypes = [C.c_void_p, C.c_int]
        self.z_size.restype = C.c_size_t
        qs.mpq_QSread_prob.restype = C.c_void_p
        qs.mpq_QSread_prob.argtypes = [C.c_char_p, C.c_char_p]
        qs.mpq_QSread_basis.restype = C.c_void_p
        qs.mpq_QSread_basis.argtypes = [C.c_void_p, C.c_char_p]
        qs.mpq_QSget_colcount.argtypes = [C.c_void_p]
        qs.mpq_QSget_rowcount.argtypes = [C.c_void_p]
        qs.mpq_QSget_obj.argtypes = [C.c_void_p, C.c_void_p]
        qs.mpq_QSget_colnames.argtypes = [C.c_void_p, C.c_void_p]
        qs.mpq_QSget_rownames.argtypes = [C.c_void_p, C.c_void_p]
        qs.QSexact_basis_optimalstatus.argtypes = [C.c_void_p, C.c_void_p, C.c_char_p, C.c_int]
        qs.mpq_ILLlib_solution.argtypes = [C.c_void_p] * 7
        qs.QSexactStart()
        self._buf = C.create_string_buffer(1 << 16)

    def array(self, n: int):
        a = (_MPQ * max(n, 1))()
        for i in range(n):
            self.q_init(C.byref(a[i]))
        return a

    def names(self, p, n: int, rows: bool) -> list[str]:
        """The programme's column (or row) names, in QSopt_ex's order."""
        out = (C.c_char_p * max(n, 1))()
        get = self.qs.mpq_QSget_rownames if rows else self.qs.mpq_QSget_colnames
        if get(p, out):
            raise OSError("QSopt_ex gave no names")
        return [out[i].decode() for i in range(n)]

    def text(self, a, i: int) -> str:
        """The i-th rational of ``a`` as GMP writes it: ``p`` or ``p/q``, in lowest terms."""
        q = C.addressof(a[i])
        size = self.z_size(q, 10) + self.z_size(q + 16, 10) + 3
        b = self._buf if size <= len(self._buf) else C.create_string_buffer(size)
        self.q_str(b, 10, q)
        return b.value.decode()


def basic_solution(mps: str, bas: str, sol: str) -> int:
    """Check the basis exactly and write its basic solution (see the module doc)."""
    lib = _Lib()
    qs = lib.qs
    p = qs.mpq_QSread_prob(mps.encode(), b"MPS")
    if not p:
        return 2
    basis = qs.mpq_QSread_basis(p, bas.encode())
    if not basis:
        return 2
    n, m = qs.mpq_QSget_colcount(p), qs.mpq_QSget_rowcount(p)
    optimal = C.create_string_buffer(1)
    if qs.QSexact_basis_optimalstatus(p, basis, optimal, 1):
        return 2
    if not optimal.raw[0]:
        return 3
    # the basic solution QSopt_ex has just computed, as its own output reads it: the
    # mpq_QSdata struct starts with its ILLlpdata pointer, then its lpinfo pointer
    lp = C.c_void_p.from_address(p + C.sizeof(C.c_void_p)).value
    val, x, pi, slack, rc, obj = (lib.array(k) for k in (1, n, m, m, n, n))
    if qs.mpq_ILLlib_solution(lp, None, val, x, pi, slack, rc) or qs.mpq_QSget_obj(p, obj):
        return 2
    cols, rows = lib.names(p, n, False), lib.names(p, m, True)
    xs = [lib.text(x, j) for j in range(n)]
    value = sum(
        (Fraction(c) * Fraction(xs[j]) for j in range(n) if (c := lib.text(obj, j)) != "0"),
        Fraction(0),
    )
    with open(sol, "w") as f:
        f.write(f"status OPTIMAL\n\tValue = {value}\nVARS:\n")
        f.writelines(f"{cols[j]} = {v}\n" for j, v in enumerate(xs) if v != "0")
        f.write("REDUCED COST:\n")
        f.writelines(f"{cols[j]} = {t}\n" for j in range(n) if (t := lib.text(rc, j)) != "0")
        f.write("PI:\n")
        f.writelines(f"{rows[i]} = {t}\n" for i in range(m) if (t := lib.text(pi, i)) != "0")
    return 0


if __name__ == "__main__":
    sys.exit(basic_solution(*sys.argv[1:4]))
