"""Named behaviours: comment phrases that promise something a check can see while code runs.

``registry`` holds the registry and how a comment is read; the checks register themselves, by
what they look at: ``sizes`` (tensors and layers), ``parameters`` (counts), ``losses``,
``counts`` (``N <noun>``) and ``training`` (calls of a training step). They are imported in
that order, which is the order a phrase is tried in.
"""

# the order of registration is the order phrases are tried in: keep these apart
from harness.claims.behaviours import sizes as sizes

# isort: split
from harness.claims.behaviours import parameters as parameters

# isort: split
from harness.claims.behaviours import losses as losses

# isort: split
from harness.claims.behaviours import counts as counts

# isort: split
from harness.claims.behaviours import training as training

# isort: split
from harness.claims.behaviours.registry import MAX_DIGITS as MAX_DIGITS
from harness.claims.behaviours.registry import NUMBER as NUMBER
from harness.claims.behaviours.registry import REGISTRY as REGISTRY
from harness.claims.behaviours.registry import Behaviour as Behaviour
from harness.claims.behaviours.registry import Context as Context
from harness.claims.behaviours.registry import call as call
from harness.claims.behaviours.registry import number as number
from harness.claims.behaviours.registry import oversized as oversized
from harness.claims.behaviours.registry import read as read
from harness.claims.behaviours.registry import value as value
from harness.claims.outcome import Outcome as Outcome
from harness.claims.outcome import failed as failed
from harness.claims.outcome import passed as passed
from harness.claims.outcome import unchecked as unchecked
