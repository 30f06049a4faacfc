"""Jinja's sandbox, taking what it compiles from a code cache (code_cache.py) when it is there.

Every way a pack's source reaches the compiler passes here: ``from_string`` and ``get_template``
call ``compile`` with the text, and ``compile_expression`` is done here with the text in hand,
since Jinja's own hands ``compile`` a syntax tree. A source that does not compile raises exactly
as without a cache (nothing is kept of it), so a broken pack is refused in the same words.
"""

from __future__ import annotations

from types import CodeType
from typing import Any, Callable

from jinja2 import TemplateSyntaxError, nodes
from jinja2.environment import TemplateExpression
from jinja2.parser import Parser

from .attribute_ways import QuickAttributes
from .code_cache import CodeCache, digest


class CachingEnvironment(QuickAttributes):
    """The immutable sandbox (attribute_ways.py), with ``code_cache`` (none: compile everything,
    as Jinja does)."""

    code_cache: CodeCache | None = None
    labels = ""  # the label filter's titles (templates.use_labels): a constant's label is folded in

    def compile(self, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                defer_init: bool = False) -> Any:
        compile_here = super().compile
        if self.code_cache is None or raw or not isinstance(source, str):
            return compile_here(source, name, filename, raw, defer_init)
        return self._code(("template", name or "", filename or "", str(defer_init), source),
                          lambda: compile_here(source, name, filename, raw, defer_init))

    def compile_expression(self, source: str, undefined_to_none: bool = True) -> TemplateExpression:
        if self.code_cache is None:
            return super().compile_expression(source, undefined_to_none)
        code = self._code(("expression", source), lambda: self.compile(_expression_tree(self, source)))
        template = self.template_class.from_code(self, code, self.make_globals(None), None)
        return TemplateExpression(template, undefined_to_none)

    def _code(self, parts: tuple[str, ...], make: Callable[[], CodeType]) -> CodeType:
        assert self.code_cache is not None
        key = digest(self._identity(), *parts)
        code = self.code_cache.get(key)
        if code is None:
            code = make()
            self.code_cache.put(key, code)
        return code

    def _identity(self) -> str:
        """What of this environment goes into the code it compiles."""
        options = (type(self).__qualname__, self.block_start_string, self.block_end_string,
                   self.variable_start_string, self.variable_end_string, self.comment_start_string,
                   self.comment_end_string, self.line_statement_prefix, self.line_comment_prefix,
                   self.trim_blocks, self.lstrip_blocks, self.newline_sequence, self.keep_trailing_newline,
                   self.autoescape, self.optimized, self.finalize is not None, self.is_async,
                   sorted(self.extensions), sorted(self.filters), sorted(self.tests), self.labels)
        return repr(options)


def _expression_tree(env: QuickAttributes, source: str) -> nodes.Template:
    """``source`` as the template ``compile_expression`` compiles (Jinja 3.1's own steps)."""
    parser = Parser(env, source, state="variable")
    try:
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
        expression.set_environment(env)
    except TemplateSyntaxError:
        env.handle_exception(source=source)
    return nodes.Template([nodes.Assign(nodes.Name("result", "store"), expression, lineno=1)], lineno=1)
