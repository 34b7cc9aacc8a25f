"""Fixed block partitions, graph partitions and forest structure of blocks."""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

__all__ = ["make_partition", "check_partition", "red_black_partition", "forest_partition",
           "forest_structure"]

FIXED_PARTITIONS = ("order", "sort", "avg")


def check_partition(blocks, n):
    """Validate a user partition: a sequence of index arrays covering ``0..n-1`` once.

    Returns a list of int64 arrays.
    """
    if isinstance(blocks, np.ndarray) and blocks.ndim == 1:
        raise TypeError("`partition` must be a string or a sequence of index arrays")
    try:
        out = [np.asarray(b).astype(np.int64, casting="safe").ravel() for b in blocks]
    except TypeError:
        raise TypeError("`partition` blocks must be arrays of integer indices") from None
    if not out:
        raise ValueError("`partition` must hold at least one block")
    if any(b.size == 0 for b in out):
        raise ValueError("`partition` blocks must be non-empty")
    allidx = np.concatenate(out)
    if allidx.min() < 0 or allidx.max() >= n:
        raise ValueError(f"`partition` indices must lie in [0, {n})")
    counts = np.bincount(allidx, minlength=n)
    if np.any(counts != 1):
        missing = np.flatnonzero(counts == 0)
        dup = np.flatnonzero(counts > 1)
        raise ValueError(f"`partition` blocks must partition the {n} variables: "
                         f"{missing.size} missing (e.g. {missing[:3].tolist()}), "
                         f"{dup.size} repeated (e.g. {dup[:3].tolist()})")
    return out


def make_partition(kind, n, block_size, lipschitz):
    """Fixed partition of ``range(n)`` into blocks of ``block_size``.

    ``'order'``: contiguous blocks; ``'sort'``: coordinates sorted by their
    Lipschitz constant, grouped consecutively (similar constants share a
    block); ``'avg'``: sorted coordinates dealt round-robin, so every block
    mixes large and small constants and the block averages are similar.
    """
    nb = -(-n // block_size)
    if kind == "order":
        perm = np.arange(n)
        return [perm[i * block_size:(i + 1) * block_size].astype(np.int64) for i in range(nb)]
    perm = np.argsort(-lipschitz, kind="stable").astype(np.int64)
    if kind == "sort":
        return [np.sort(perm[i * block_size:(i + 1) * block_size]) for i in range(nb)]
    if kind == "avg":
        return [np.sort(perm[i::nb]) for i in range(nb)]
    raise ValueError(f"unknown partition {kind!r}")  # pragma: no cover - checked by caller


def _graph(A, name="A"):
    if not sp.issparse(A):
        A = np.asarray(A)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"`{name}` must be a square matrix, got shape {A.shape}")
    elif A.shape[0] != A.shape[1]:
        raise ValueError(f"`{name}` must be a square matrix, got shape {A.shape}")
    G = sp.csr_matrix(A, dtype=np.float64)
    G = G - sp.diags(G.diagonal())
    G.eliminate_zeros()
    G = ((abs(G) + abs(G.T)) > 0).astype(np.int8).tocsr()
    return G


def red_black_partition(A):
    """Two-colour the graph of ``A`` (its off-diagonal nonzeros).

    On a bipartite graph (a lattice, a tree) each colour class is an
    independent set, so its block Hessian is diagonal and a block update is
    an exact solve.

    Parameters
    ----------
    A : array_like or sparse matrix, shape (n, n)
        Matrix (or adjacency) whose off-diagonal pattern is the graph; a
        :class:`~numopt.coordinate.Quadratic` problem's ``A``.

    Returns
    -------
    list of two int64 arrays

    Raises
    ------
    ValueError
        When the graph is not bipartite.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import red_black_partition
    >>> A = np.eye(4) + np.diag([0.1] * 3, 1) + np.diag([0.1] * 3, -1)
    >>> [b.tolist() for b in red_black_partition(A)]
    [[0, 2], [1, 3]]
    """
    G = _graph(A)
    n = G.shape[0]
    colour = -np.ones(n, dtype=np.int64)
    ncomp, labels = connected_components(G, directed=False)
    for c in range(ncomp):
        root = int(np.flatnonzero(labels == c)[0])
        order, pred = breadth_first_order(G, root, directed=False, return_predecessors=True)
        colour[root] = 0
        for i in order[1:]:
            colour[i] = 1 - colour[pred[i]]
    rows, cols = G.nonzero()
    if np.any(colour[rows] == colour[cols]):
        raise ValueError("the graph of `A` is not bipartite; a red-black partition needs "
                         "a 2-colourable graph (use forest_partition instead)")
    blocks = [np.flatnonzero(colour == 0).astype(np.int64),
              np.flatnonzero(colour == 1).astype(np.int64)]
    return [b for b in blocks if b.size]


def forest_partition(A, n_forests=None):
    """Split the nodes of the graph of ``A`` into blocks that each induce a forest.

    Nodes are visited in index order and put in the first block where they
    close no cycle (union-find). On a 2-D lattice numbered row by row this
    gives two forests (the paper's tree partition); blocks solve exactly by
    message passing (``update='mp'``).

    Parameters
    ----------
    A : array_like or sparse matrix, shape (n, n)
    n_forests : int, optional
        Maximum number of blocks; ValueError when more are needed.

    Returns
    -------
    list of int64 arrays

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import LabelPropagation, forest_partition
    >>> from numopt.problems import lattice_label_propagation
    >>> d = lattice_label_propagation(10, n_labelled=10, rng=0)
    >>> p = LabelPropagation(d.W, d.y, d.labelled)
    >>> len(forest_partition(p.A))
    2
    """
    G = _graph(A)
    n = G.shape[0]
    indptr, indices = G.indptr, G.indices
    # one union-find structure per forest
    parents = []
    members = []
    assign = -np.ones(n, dtype=np.int64)

    def find(par, i):
        root = i
        while par[root] != root:
            root = par[root]
        while par[i] != root:
            par[i], i = root, par[i]
        return root

    for i in range(n):
        nbrs = indices[indptr[i]:indptr[i + 1]]
        placed = False
        for f, par in enumerate(parents):
            roots = [find(par, j) for j in nbrs if par[j] >= 0 and assign[j] == f]
            if len(roots) == len(set(roots)):
                par[i] = i
                for r in roots:
                    par[r] = i
                assign[i] = f
                members[f].append(i)
                placed = True
                break
        if not placed:
            if n_forests is not None and len(parents) >= n_forests:
                raise ValueError(f"the graph needs more than n_forests={n_forests} forests")
            par = -np.ones(n, dtype=np.int64)
            par[i] = i
            parents.append(par)
            members.append([i])
            assign[i] = len(parents) - 1
    return [np.asarray(m, dtype=np.int64) for m in members]


def forest_structure(A, idx):
    """BFS order, parents and edge weights of the subgraph of ``A`` induced by ``idx``.

    Returns ``(order, parent, weight, diag)`` in local numbering for
    :func:`numopt.coordinate._kernels.tree_solve`. Raises ValueError when
    the induced subgraph has a cycle.
    """
    Abb = sp.csr_matrix(A[idx][:, idx] if sp.issparse(A) else A[np.ix_(idx, idx)])
    diag = np.asarray(Abb.diagonal(), dtype=np.float64).copy()
    off = (Abb - sp.diags(Abb.diagonal())).tocsr()
    off.eliminate_zeros()
    nb = len(idx)
    n_edges = off.nnz // 2
    ncomp, labels = connected_components(off, directed=False)
    if n_edges != nb - ncomp:
        raise ValueError("a block's subgraph has a cycle: message passing needs blocks "
                         "that induce forests (see forest_partition / red_black_partition)")
    parent = -np.ones(nb, dtype=np.int64)
    weight = np.zeros(nb)
    order = []
    seen = np.zeros(nb, dtype=bool)
    for c in range(ncomp):
        root = int(np.flatnonzero(labels == c)[0])
        o, pred = breadth_first_order(off, root, directed=False, return_predecessors=True)
        for i in o:
            seen[i] = True
            if i != root:
                parent[i] = pred[i]
                weight[i] = off[i, pred[i]]
        order.extend(o.tolist())
    return np.asarray(order, dtype=np.int64), parent, weight, diag
