"""The parameters a dataset of an input with parameters keeps in its record (``Dataset.params``: a
criterion raster's name, statistic, direction and unit, an exclusion layer's kind and buffer, a grid
layer's kind — what ``indicators.measures`` parses from the ``FILE:…`` value of the input's flag):
written back in that syntax, required at registration, and the check that two datasets in use do
not fill the same columns.

May import: ``core`` and ``layers`` only.
"""
from __future__ import annotations

from core.errors import InputError


def params_text(params: dict) -> str:
    """A dataset's parameters written as after ``FILE:`` in its flag value (``ghi:mean:higher:kWh/m2/yr``,
    ``reserve:800``, ``substation``): what ``gansu workspace add --params`` and the Data page take."""
    if not params:
        return ""
    if "stat" in params:  # a criterion raster
        unit = f":{params['unit']}" if params.get("unit") else ""
        return f"{params['name']}:{params['stat']}:{'higher' if params['direction'] > 0 else 'lower'}{unit}"
    if params.get("buffer_m"):  # an exclusion layer with a buffer
        return f"{params['kind']}:{params['buffer_m']:g}"
    return str(params.get("kind", ""))


def check_params(spec, params: dict | None) -> None:
    """An input declared with ``params`` needs them (what its parser read after ``FILE:``); others take none."""
    if spec.params and not params:
        form = (spec.metavar or "FILE:…").split(":", 1)[-1]
        raise InputError(f"{spec.label.zh}需要参数 {form}（与命令行 {spec.flag} 的 FILE: 之后相同）。",
                         f"a {spec.label.en} needs its parameters {form} (as after FILE: in {spec.flag}).")
    if params and not spec.params:
        raise InputError(f"{spec.label.zh}不带参数。", f"a {spec.label.en} takes no parameters.")


def column_key(params: dict) -> str | None:
    """What names the columns a dataset with parameters fills: a criterion's column, an exclusion or
    grid layer's kind (two datasets in use with one key would write the same columns)."""
    return params.get("column") or params.get("kind")


def distinct_columns(slot, chosen: list) -> None:
    """Refuse datasets of one slot (``chosen``: ``storage.workspace.Dataset``) that would fill the same columns."""
    seen: dict = {}
    for ds in chosen:
        key = column_key(ds.params)
        if key is None:
            raise InputError(f"数据集“{ds.name}”没有{slot.label.zh}所需的参数（{slot.metavar}）：请重新登记。",
                             f"dataset '{ds.name}' has no parameters ({slot.metavar}), which a {slot.label.en} needs: "
                             "register it again.")
        if key in seen:
            raise InputError(
                f"数据集“{seen[key].name}”与“{ds.name}”会写入同一结果列（{key}）：一次只使用其中一个，"
                "或将它们合并为一个文件后登记。",
                f"datasets '{seen[key].name}' and '{ds.name}' would fill the same columns ({key}): use one of them, "
                "or merge them into one file and register that.")
        seen[key] = ds
