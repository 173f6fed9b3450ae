"""Data & sources: the data in use, adding datasets (upload, import folder), the registered
datasets with their provenance, every built-in layer with its manifest entry, and replacing the
schematic/proxy layers with official files."""
from ui import common, data_sources, workspace_ui

lg = common.page("data.title")
manifest = data_sources.build_info(lg)
workspace_ui.in_use_selectors(lg)
workspace_ui.add_dataset(lg)
workspace_ui.import_folder(lg)
workspace_ui.datasets_section(lg)
data_sources.layer_table(manifest, lg)
data_sources.replace_layer(lg)
