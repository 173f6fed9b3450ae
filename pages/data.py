"""Data & sources: the data in use, adding datasets (upload, import folder), the registered
datasets with their provenance, every built-in layer with its manifest entry, and replacing the
schematic/proxy layers with official files."""
from ui import auth, common, data_sources, dataset_add, dataset_import, dataset_table, result_tables, runlog, workspace_ui

lg = common.page("data.title")
auth.mode_notice(lg)  # no accounts: anyone who can reach this server can change data
manifest = data_sources.build_info(lg)
workspace_ui.in_use_selectors(lg)
dataset_add.add_dataset(lg)
dataset_import.import_folder(lg)
dataset_table.datasets_section(lg)
data_sources.layer_table(manifest, lg)
data_sources.zone_changes(lg)  # which schematic zone rows moved at the last review, and why
data_sources.carbon_densities(lg)  # the density table by zone and class, each row with its source
data_sources.replace_layer(lg)
auth.bin_section(lg)
auth.audit_section(lg)
result_tables.section(lg)  # final tables of CLI runs (--into-store)
runlog.section(lg)  # pixel-area mode and the run log (exports, saved scenarios)
auth.accounts_section(lg)
