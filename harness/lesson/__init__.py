"""A lesson: markdown read into fences, comments and directives."""

from harness.lesson.errors import LessonError as LessonError
from harness.lesson.read import (
    DEFAULT_TAB as DEFAULT_TAB,
)
from harness.lesson.read import (
    DOCTEST_LANGUAGES as DOCTEST_LANGUAGES,
)
from harness.lesson.read import (
    IPYTHON_LANGUAGES as IPYTHON_LANGUAGES,
)
from harness.lesson.read import (
    MAX_FRONT_MATTER as MAX_FRONT_MATTER,
)
from harness.lesson.read import (
    MAX_ID as MAX_ID,
)
from harness.lesson.read import (
    MAX_NESTING as MAX_NESTING,
)
from harness.lesson.read import (
    MAX_PASTED as MAX_PASTED,
)
from harness.lesson.read import (
    PYTHON_LANGUAGES as PYTHON_LANGUAGES,
)
from harness.lesson.read import (
    SAFE_ID as SAFE_ID,
)
from harness.lesson.read import (
    TAB_VARIABLE as TAB_VARIABLE,
)
from harness.lesson.read import (
    Example as Example,
)
from harness.lesson.read import (
    Fence as Fence,
)
from harness.lesson.read import (
    Lesson as Lesson,
)
from harness.lesson.read import (
    expected_exception as expected_exception,
)
from harness.lesson.read import (
    expected_warning as expected_warning,
)
from harness.lesson.read import (
    fence_language as fence_language,
)
from harness.lesson.read import (
    front_matter as front_matter,
)
from harness.lesson.read import (
    id_from_file_name as id_from_file_name,
)
from harness.lesson.read import (
    is_console as is_console,
)
from harness.lesson.read import (
    parse_lesson as parse_lesson,
)
from harness.lesson.read import (
    read_lesson as read_lesson,
)
from harness.lesson.read import (
    selected_tab as selected_tab,
)
from harness.lesson.read import (
    source_lines as source_lines,
)
from harness.lesson.read import (
    tab_names as tab_names,
)
from harness.lesson.read import (
    unwrap_admonitions as unwrap_admonitions,
)
