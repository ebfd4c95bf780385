"""The HTML report: results and the lesson they came from, rendered for a reader."""

from harness.report.page import (
    BLOCK_STATES as BLOCK_STATES,
)
from harness.report.page import (
    CLAIM_STATES as CLAIM_STATES,
)
from harness.report.page import (
    CONSOLE as CONSOLE,
)
from harness.report.page import (
    COVERAGE_FIELDS as COVERAGE_FIELDS,
)
from harness.report.page import (
    JSON as JSON,
)
from harness.report.page import (
    KNOWN_SCHEMA as KNOWN_SCHEMA,
)
from harness.report.page import (
    LABELS as LABELS,
)
from harness.report.page import (
    PYGMENTS_STYLE as PYGMENTS_STYLE,
)
from harness.report.page import (
    TEMPLATES as TEMPLATES,
)
from harness.report.page import (
    BenchRow as BenchRow,
)
from harness.report.page import (
    BenchView as BenchView,
)
from harness.report.page import (
    BlockView as BlockView,
)
from harness.report.page import (
    Chart as Chart,
)
from harness.report.page import (
    ClaimResultView as ClaimResultView,
)
from harness.report.page import (
    ClaimView as ClaimView,
)
from harness.report.page import (
    Counts as Counts,
)
from harness.report.page import (
    Coverage as Coverage,
)
from harness.report.page import (
    DeviceResult as DeviceResult,
)
from harness.report.page import (
    DirectiveLabel as DirectiveLabel,
)
from harness.report.page import (
    ErrorView as ErrorView,
)
from harness.report.page import (
    Failure as Failure,
)
from harness.report.page import (
    LessonPage as LessonPage,
)
from harness.report.page import (
    LineView as LineView,
)
from harness.report.page import (
    Need as Need,
)
from harness.report.page import (
    NoteView as NoteView,
)
from harness.report.page import (
    Output as Output,
)
from harness.report.page import (
    ProseLine as ProseLine,
)
from harness.report.page import (
    Run as Run,
)
from harness.report.page import (
    directive_labels as directive_labels,
)
from harness.report.page import (
    duration as duration,
)
from harness.report.page import (
    highlight_lines as highlight_lines,
)
from harness.report.page import (
    label as label,
)
from harness.report.page import (
    loss_chart as loss_chart,
)
from harness.report.page import (
    rate as rate,
)
from harness.report.page import (
    read_inputs as read_inputs,
)
from harness.report.page import (
    refused as refused,
)
from harness.report.page import (
    when as when,
)
from harness.report.page import (
    write_report as write_report,
)
