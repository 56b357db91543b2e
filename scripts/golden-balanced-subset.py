#!/usr/bin/env python3
# Golden value for test/methods/peers.test.ts: the largest subset of joint (y, z0, z1) cells, with
# these row counts, in which both (y, z_i) marginals are balanced (scipy's linprog; needs scipy).
import numpy as np
from scipy.optimize import linprog

counts = {"0,0,0": 1615, "0,0,1": 188, "0,1,0": 172, "0,1,1": 19,
          "1,0,0": 16, "1,0,1": 186, "1,1,0": 164, "1,1,1": 1640}
keys = sorted(counts)
n = np.array([counts[k] for k in keys], float)
a_eq = []
for i in (1, 2):
    cells = {}
    for j, k in enumerate(keys):
        t = k.split(",")
        cells.setdefault((t[0], t[i]), []).append(j)
    groups = list(cells.values())
    for a, b in zip(groups, groups[1:]):
        row = np.zeros(len(keys))
        row[a] += n[a]
        row[b] -= n[b]
        a_eq.append(row)
res = linprog(-n, A_eq=a_eq, b_eq=np.zeros(len(a_eq)), bounds=[(0, 1)] * len(keys))
print(round(-res.fun, 6))  # 720.0
