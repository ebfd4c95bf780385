"""What comments promise: claims found in a lesson's comments, their grammars and kinds."""

from harness.claims.find import (
    ANY as ANY,
)
from harness.claims.find import (
    COUNTED as COUNTED,
)
from harness.claims.find import (
    DESCRIBED as DESCRIBED,
)
from harness.claims.find import (
    KINDS as KINDS,
)
from harness.claims.find import (
    MAX_LINEAGE as MAX_LINEAGE,
)
from harness.claims.find import (
    SEEDED as SEEDED,
)
from harness.claims.find import (
    Claim as Claim,
)
from harness.claims.find import (
    Comment as Comment,
)
from harness.claims.find import (
    Insert as Insert,
)
from harness.claims.find import (
    Placement as Placement,
)
from harness.claims.find import (
    ShapeText as ShapeText,
)
from harness.claims.find import (
    Wrap as Wrap,
)
from harness.claims.find import (
    comments as comments,
)
from harness.claims.find import (
    example_of as example_of,
)
from harness.claims.find import (
    find_claims as find_claims,
)
from harness.claims.find import (
    lesson_names as lesson_names,
)
from harness.claims.find import (
    looks_like_output as looks_like_output,
)
from harness.claims.find import (
    parse_block as parse_block,
)
from harness.claims.find import (
    read_comments as read_comments,
)
from harness.claims.find import (
    read_shape_comment as read_shape_comment,
)
from harness.claims.find import (
    unparse as unparse,
)
from harness.claims.find import (
    value_on_line as value_on_line,
)
