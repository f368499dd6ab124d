"""Random small register histories for the ladder's property and oracle tests."""

from __future__ import annotations

from hypothesis import strategies as st

from capsim.history import History

from .histories import Op, build

INITIAL = {"x": "0", "y": "0"}


@st.composite
def small_histories(draw: st.DrawFn, max_ops: int = 7, info: bool = True,
                    cas: bool = True) -> History:
    """Up to ``max_ops`` ops by 2-3 clients on x (and maybe y); written values unique.

    Reads return a value some op writes (or the initial one), so most histories
    are interesting; each client's ops follow one another, clients overlap.
    """
    n = draw(st.integers(1, max_ops))
    procs = ["a", "b", "c"][: draw(st.integers(2, 3))]
    keys = ["x", "y"][: draw(st.integers(1, 2))]
    plan = []
    written: dict[str, list[str]] = {k: [] for k in keys}
    counter = 0
    for _ in range(n):
        p = draw(st.sampled_from(procs))
        k = draw(st.sampled_from(keys))
        f = draw(st.sampled_from(["read", "read", "write", "write"] + (["cas"] if cas else [])))
        if f == "write" or (f == "cas" and not written[k]):
            counter += 1
            written[k].append(str(counter))
            plan.append((p, k, "write", str(counter)))
        elif f == "cas":
            counter += 1
            exp = draw(st.sampled_from(["0", *written[k]]))
            written[k].append(str(counter))
            plan.append((p, k, "cas", (exp, str(counter))))
        else:
            plan.append((p, k, "read", None))
    clock = {p: draw(st.integers(0, 3)) * 1.0 for p in procs}
    ops: list[Op] = []
    for p, k, f, v in plan:
        start = clock[p] + draw(st.integers(0, 3))
        end = start + draw(st.integers(1, 4))
        clock[p] = end
        kind = "ok"
        if f != "read" and info and draw(st.integers(0, 7)) == 0:
            kind = draw(st.sampled_from(["info", "fail"]))
        if f == "read":
            v = draw(st.sampled_from(["0", *written[k]]))
        ops.append(Op(p, f, v, float(start), float(end), kind,
                      None, k))
    return build(*ops)
