"""Optimal full-domain generalisation (匿名加工, R-43-1 standard 5) over the lattice of hierarchy levels.

Data work is vectorised: every quasi-identifier (QI) is integer-encoded once per hierarchy level, the table is
reduced to its distinct (QI…, sensitive) rows with weights, and a transformation (a tuple of levels, one per QI)
is evaluated by one group-by on the encoded columns (``np.bincount`` when the key space is small).

Search: branch and bound over all lattice nodes in order of a lower bound of the information loss, with
predictive tagging (monotonicity pruning):

* if a node is not k-anonymous within the suppression limit, no predecessor is (always valid: generalisation only
  merges classes, so the set of records in classes smaller than k can only shrink);
* if a node satisfies the whole privacy model and the model is monotone, every successor does. k-anonymity and
  distinct l-diversity are monotone with suppression; entropy l-diversity and t-closeness (equal and
  hierarchical distance, both convex in the class distribution) are monotone only with a suppression limit of 0.
  With suppression they are checked node by node (no upward tagging), which keeps the search exact.
* a node that fails k is followed by a binary search up a chain and a greedy climb to a maximal failing node,
  whose whole down-set is tagged;
* the lower bound ``loss(node, no suppression)`` depends only on the levels and is monotone in the lattice;
  a suppressed record costs the maximum per QI, so the exact loss is never below it. Nodes are visited by
  increasing bound and the search stops when the bound reaches the best exact loss found.
"""

from __future__ import annotations

from mamori.deid.tabular.engine.encoding import _DENSE_LIMIT as _DENSE_LIMIT
from mamori.deid.tabular.engine.encoding import RULE_STANDARD_5 as RULE_STANDARD_5
from mamori.deid.tabular.engine.encoding import Encoded as Encoded
from mamori.deid.tabular.engine.encoding import Evaluation as Evaluation
from mamori.deid.tabular.engine.encoding import FloatArray as FloatArray
from mamori.deid.tabular.engine.encoding import IntArray as IntArray
from mamori.deid.tabular.engine.encoding import LKind as LKind
from mamori.deid.tabular.engine.encoding import Metric as Metric
from mamori.deid.tabular.engine.encoding import PrivacyModel as PrivacyModel
from mamori.deid.tabular.engine.encoding import Snapshot as Snapshot
from mamori.deid.tabular.engine.encoding import TDistance as TDistance
from mamori.deid.tabular.engine.encoding import _classes as _classes
from mamori.deid.tabular.engine.encoding import _codes as _codes
from mamori.deid.tabular.engine.encoding import _combine as _combine
from mamori.deid.tabular.engine.encoding import encode as encode
from mamori.deid.tabular.engine.evaluator import Evaluator as Evaluator
from mamori.deid.tabular.engine.search import _BIG as _BIG
from mamori.deid.tabular.engine.search import _CACHE as _CACHE
from mamori.deid.tabular.engine.search import SearchResult as SearchResult
from mamori.deid.tabular.engine.search import _chain_up as _chain_up
from mamori.deid.tabular.engine.search import apply as apply
from mamori.deid.tabular.engine.search import brute_force as brute_force
from mamori.deid.tabular.engine.search import lattice as lattice
from mamori.deid.tabular.engine.search import search as search
from mamori.deid.tabular.engine.search import suppressed_records as suppressed_records
