"""The HTML report: results and the lesson they came from, rendered for a reader (issue 6).

``write_report`` renders, without re-running anything, ``index.html`` (every lesson with its
counts per device, the environment of each run, the problems) and one page per lesson: the
article itself, each code block decorated where it is written (a status badge and time per
device, each claim's verdict in the line-number gutter and on its line, stdout folded under
the block, an error at its line, dependency notes, benchmark figures and loss curves as inline
SVG). Several results documents merge into one report, one column per device.

The pipeline: ``inputs`` (results and benchmark files; ``refused``) -> ``blocks`` (the views of
one lesson, ``views``, with their anchors) -> ``article`` (lay out, then render the markdown) ->
``page`` (the lesson page and its summary) and ``index`` -> ``write`` (``write_report``).
"""

from harness.report.blocks import Layout as Layout
from harness.report.charts import Chart as Chart
from harness.report.charts import loss_chart as loss_chart
from harness.report.formatting import LABELS as LABELS
from harness.report.formatting import duration as duration
from harness.report.formatting import label as label
from harness.report.formatting import rate as rate
from harness.report.formatting import when as when
from harness.report.highlight import CONSOLE as CONSOLE
from harness.report.highlight import PYGMENTS_STYLE as PYGMENTS_STYLE
from harness.report.highlight import highlight_lines as highlight_lines
from harness.report.index import BenchRow as BenchRow
from harness.report.index import Run as Run
from harness.report.inputs import JSON as JSON
from harness.report.inputs import KNOWN_SCHEMA as KNOWN_SCHEMA
from harness.report.inputs import read_inputs as read_inputs
from harness.report.inputs import refused as refused
from harness.report.page import LessonPage as LessonPage
from harness.report.templates import TEMPLATES as TEMPLATES
from harness.report.views import BLOCK_STATES as BLOCK_STATES
from harness.report.views import CLAIM_STATES as CLAIM_STATES
from harness.report.views import COVERAGE_FIELDS as COVERAGE_FIELDS
from harness.report.views import BlockView as BlockView
from harness.report.views import ClaimResultView as ClaimResultView
from harness.report.views import ClaimView as ClaimView
from harness.report.views import Counts as Counts
from harness.report.views import Coverage as Coverage
from harness.report.views import DeviceResult as DeviceResult
from harness.report.views import DirectiveLabel as DirectiveLabel
from harness.report.views import ErrorView as ErrorView
from harness.report.views import Failure as Failure
from harness.report.views import LineView as LineView
from harness.report.views import Need as Need
from harness.report.views import NoteView as NoteView
from harness.report.views import Output as Output
from harness.report.views import ProseLine as ProseLine
from harness.report.views import Step as Step
from harness.report.views import directive_labels as directive_labels
from harness.report.write import Report as Report
from harness.report.write import build_report as build_report
from harness.report.write import write_report as write_report
