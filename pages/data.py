"""Data & sources: every layer with its manifest entry; replace schematic/proxy layers with
official files (kept in the store)."""
from ui import common, data_sources

lg = common.page("data.title")
manifest = data_sources.build_info(lg)
data_sources.layer_table(manifest, lg)
data_sources.replace_layer(lg)
