"""The results model: what a run found, per block, claim and device."""

from harness.results.model import (
    JSON as JSON,
)
from harness.results.model import (
    SCHEMA as SCHEMA,
)
from harness.results.model import (
    STDOUT_LIMIT as STDOUT_LIMIT,
)
from harness.results.model import (
    BlockResult as BlockResult,
)
from harness.results.model import (
    ClaimResult as ClaimResult,
)
from harness.results.model import (
    ErrorInfo as ErrorInfo,
)
from harness.results.model import (
    LessonResult as LessonResult,
)
from harness.results.model import (
    environment as environment,
)
from harness.results.model import (
    merge_lessons as merge_lessons,
)
from harness.results.model import (
    one_line as one_line,
)
from harness.results.model import (
    results_json as results_json,
)
from harness.results.model import (
    valid_json as valid_json,
)
from harness.results.model import (
    valid_text as valid_text,
)
