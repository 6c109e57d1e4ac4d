"""The ``[decruft]`` section of luigi.cfg, folded into one CleanConfig for the library."""
from __future__ import annotations

from pathlib import Path

import luigi

from pipeline.config import CleanConfig
from pipeline.language import parse_languages
from pipeline.writers import PARTITION_FORMATS


class decruft(luigi.Config):  # noqa: N801 - the class name is the luigi.cfg section name
    """Settings for every decruft task; on the command line as ``--decruft-<name>``."""

    raw_root = luigi.Parameter(default="raw", description="folder holding one sub-folder per day")
    clean_root = luigi.Parameter(default="clean", description="where clean partitions are written")
    shard_max_files = luigi.IntParameter(default=1000, description="input files per shard task")
    shard_max_bytes = luigi.IntParameter(default=64 * 2**20, description="input bytes per shard task")
    rules_dir = luigi.Parameter(default="", description="folder of extra rule files (*.toml)")
    disabled_rules = luigi.ListParameter(default=[], description="rule ids to switch off")
    statistical = luigi.BoolParameter(default=True, parsing=luigi.BoolParameter.EXPLICIT_PARSING,
                                      description="run the line classifier after the phrase rules")

    output_format = luigi.ChoiceParameter(default="jsonl", choices=PARTITION_FORMATS,
                                          description="clean records as jsonl, jsonl.gz, parquet, txt-dir or "
                                                      "markdown (a folder of .md files)")
    markdown = luigi.BoolParameter(default=False, parsing=luigi.BoolParameter.EXPLICIT_PARSING,
                                   description="add a markdown field to each record (always on for "
                                               "output_format = markdown)")
    document_timeout = luigi.FloatParameter(default=60.0, description="seconds one document may take (0: no limit)")
    require_ready = luigi.BoolParameter(default=False, parsing=luigi.BoolParameter.EXPLICIT_PARSING,
                                        description="clean a day folder only once it holds a _READY marker")
    follow_symlinks = luigi.BoolParameter(default=False, parsing=luigi.BoolParameter.EXPLICIT_PARSING,
                                          description="read symbolic links in raw/<date>/ that point outside raw_root, "
                                                      "and walk symlinked folders")
    on_input_change = luigi.ChoiceParameter(
        default="fail", choices=["fail", "reclean"],
        description="a cleaned day whose raw files changed (new, changed, missing): fail (exit 20, "
                    "nothing rewritten) or reclean (clean the day again)")
    force = luigi.BoolParameter(default=False, parsing=luigi.BoolParameter.EXPLICIT_PARSING,
                                description="clean again a day complete in another output_format")
    site_profiles = luigi.BoolParameter(default=True, parsing=luigi.BoolParameter.EXPLICIT_PARSING,
                                        description="learn and remove per-site boilerplate lines")
    site_min_share = luigi.FloatParameter(default=0.3, description="share of a site's documents a line must be in")
    site_min_docs = luigi.IntParameter(default=5, description="documents a line must be in")
    max_record_bytes = luigi.IntParameter(default=CleanConfig.max_record_bytes,
                                          description="bytes of one JSONL line or WARC record; longer: rejected too_large")
    keep_langs = luigi.Parameter(default="", description="keep only paragraphs in these languages, "
                                 "comma-separated ISO codes (e.g. de,en); empty: keep all")

    min_quality = luigi.OptionalFloatParameter(default=None,
                                               description="reject documents with quality below this (low_quality)")
    max_removed_share = luigi.OptionalFloatParameter(
        default=None, description="reject documents that lost this share of words more than their page regime "
                                  "expects (gutted)")

    def clean_config(self) -> CleanConfig:
        return CleanConfig(
            rules_dirs=(Path(self.rules_dir),) if self.rules_dir else (),
            disabled_rules=frozenset(self.disabled_rules),
            statistical=self.statistical,
            site_min_share=self.site_min_share,
            site_min_docs=self.site_min_docs,
            max_record_bytes=self.max_record_bytes,
            min_quality=self.min_quality,
            max_removed_share=self.max_removed_share,
            keep_langs=parse_languages(self.keep_langs),
            markdown=self.markdown or self.output_format == "markdown",
        )
