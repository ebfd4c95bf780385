"""What comments promise: claims found in a lesson's comments, their grammars and kinds.

``find`` finds them (each comment goes to the first kind in ``kinds`` that reads it);
``model`` is what a claim is; ``shapes``, ``formulas`` and ``behaviours`` are the grammars
and checks the built-in kinds use.
"""

from harness.claims import kinds as kinds
from harness.claims.block import comments as comments
from harness.claims.block import unparse as unparse
from harness.claims.docstrings import example_of as example_of
from harness.claims.find import find_claims as find_claims
from harness.claims.find import parse_block as parse_block
from harness.claims.find import read_comments as read_comments
from harness.claims.lineage import MAX_LINEAGE as MAX_LINEAGE
from harness.claims.lineage import SEEDED as SEEDED
from harness.claims.model import Claim as Claim
from harness.claims.model import Comment as Comment
from harness.claims.model import Insert as Insert
from harness.claims.model import Placement as Placement
from harness.claims.model import Wrap as Wrap
from harness.claims.place import value_on_line as value_on_line
from harness.claims.place_count import COUNTED as COUNTED
from harness.claims.place_shape import ANY as ANY
from harness.claims.printed import looks_like_output as looks_like_output
from harness.claims.shape_text import DESCRIBED as DESCRIBED
from harness.claims.shape_text import ShapeText as ShapeText
from harness.claims.shape_text import read_shape_comment as read_shape_comment
from harness.lesson import lesson_names as lesson_names
