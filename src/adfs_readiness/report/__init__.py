"""Renderers of a graded run: JSON (versioned, with a JSON Schema), self-contained HTML and
terminal text. They only read a :class:`~adfs_readiness.model.RunResult`; they never judge,
grade or import probes or the engine (DESIGN.md, "Layers")."""

from __future__ import annotations

from adfs_readiness.report.html import render_html
from adfs_readiness.report.json_report import SCHEMA_VERSION, render_json, report_dict
from adfs_readiness.report.text import render_text

__all__ = ["SCHEMA_VERSION", "render_html", "render_json", "render_text", "report_dict"]
