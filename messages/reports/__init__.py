"""Builders of the compiled report: chat summary, Markdown, JSON, Excel, Word, chart, zip."""
