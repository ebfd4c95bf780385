"""The results model: what a run found, per block, claim and device; its JSON; its messages.

``status`` (Status, Verdict, the one ranking), ``model`` (results and their read-back records),
``messages`` (what a check says, as ``Message``), ``document`` (dump and tolerant load),
``merge`` (partial results united), ``text`` (text safe on a terminal and in JSON).
"""

from harness.results.document import SCHEMA as SCHEMA
from harness.results.document import block_result_json as block_result_json
from harness.results.document import document_json as document_json
from harness.results.document import environment as environment
from harness.results.document import load_document as load_document
from harness.results.document import results_json as results_json
from harness.results.merge import merge_lessons as merge_lessons
from harness.results.messages import Level as Level
from harness.results.messages import Message as Message
from harness.results.model import JSON as JSON
from harness.results.model import STDOUT_LIMIT as STDOUT_LIMIT
from harness.results.model import BlockRecord as BlockRecord
from harness.results.model import BlockResult as BlockResult
from harness.results.model import ClaimRecord as ClaimRecord
from harness.results.model import ClaimResult as ClaimResult
from harness.results.model import Document as Document
from harness.results.model import ErrorInfo as ErrorInfo
from harness.results.model import LessonRecord as LessonRecord
from harness.results.model import LessonResult as LessonResult
from harness.results.status import RANK as RANK
from harness.results.status import Status as Status
from harness.results.status import Verdict as Verdict
from harness.results.status import rank as rank
from harness.results.status import worst as worst
from harness.results.text import one_line as one_line
from harness.results.text import valid_json as valid_json
from harness.results.text import valid_text as valid_text
