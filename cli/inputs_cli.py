"""The input flags of a command, generated from the declared inputs (``layers.inputs``): the flag,
its help (English and Chinese), repeats and metavar; the files given, for the provenance record; and
the declared inputs with a measure read from their flags (a vector through the reader registry, a
raster through the upload checks) into ``RunInputs.extra``."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from core.errors import InputError
from layers import inputs


def add_input_flags(p, command: str) -> None:
    """One flag per declared input the command takes, in declaration order."""
    for spec in inputs.for_command(command):
        text = spec.help.en
        if spec.required == "without_workspace":
            text += " (required without --workspace)"
        if spec.units and spec.measure:
            text += f"; adds the column {spec.column} ({spec.units})"
        kw: dict = {"dest": spec.dest, "help": f"{text} / {spec.help.zh}".replace("%", "%%")}  # argparse formats help
        if spec.multiple:
            kw.update(nargs="+", action="extend", default=[])
        if spec.metavar:
            kw["metavar"] = spec.metavar
        p.add_argument(spec.flag, **kw)


def _paths(spec, value) -> list[str]:
    values = value if isinstance(value, list) else ([value] if value else [])
    if spec.params:  # FILE:NAME:… values: the declared parser finds the file (and checks the rest)
        from indicators import measures  # start-up time: the measures load GeoPandas and the zonal engine

        return [measures.PARSERS[spec.params](v)[0] for v in values]
    # FILE:KIND (transport) names the file before the last colon
    return [v.rsplit(":", 1)[0] if spec.metavar == "FILE:KIND" else v for v in values]


def given_files(a, command: str) -> list[tuple[str, str]]:
    """(input id, file) of every file-valued flag given, tables included."""
    out = []
    for spec in inputs.for_command(command):
        out += [(spec.id, f) for f in _paths(spec, getattr(a, spec.dest, None))]
    return out


def check_required(a, command: str, workspace: bool) -> None:
    """The inputs declared ``required="without_workspace"`` are given unless ``--workspace``."""
    if workspace:
        return
    missing = [spec.flag for spec in inputs.for_command(command)
               if spec.required == "without_workspace" and not getattr(a, spec.dest, None)]
    if missing:  # every missing flag named, one line each
        raise InputError("\n".join(f"缺少 {f}（或使用 --workspace 以采用仪表盘当前使用的数据）" for f in missing),
                         "\n".join(f"{f} is required (or use --workspace for the dashboard's data in use)"
                                   for f in missing))


def check_given(a, command: str) -> None:
    """Every file named by a declared flag exists (before anything is read)."""
    for input_id, f in given_files(a, command):
        if not Path(f).exists():
            flag = inputs.get(input_id).flag
            raise InputError(f"{flag}：找不到文件 {f}", f"{flag}: file {f} not found")


def measured_inputs(a, command: str, read: Callable) -> tuple[dict, dict]:
    """({input id: layer or raster path, or [(layer or path, params), …] for an input whose values
    carry parameters}, {input id: file or [files]}) of the declared inputs with a measure given on
    the command line. ``read(path, what, polygons=…)`` reads a vector file."""
    from indicators import measures  # start-up time: the measures load GeoPandas and the zonal engine
    from layers.readers import validate_geotiff  # start-up time: the readers load GDAL

    extra, files = {}, {}
    for spec in inputs.for_command(command):
        value = getattr(a, spec.dest, None)
        if not spec.measure or not value:
            continue

        def load(path, spec=spec):
            if spec.kind == "raster":
                validate_geotiff(path, categorical=False)
                return str(path)
            return read(path, spec.flag, polygons=spec.kind == "polygons")

        if spec.params:  # FILE:… values, each with its parameters (several allowed)
            pairs = [measures.PARSERS[spec.params](v) for v in value]
            extra[spec.id] = [(load(path), params) for path, params in pairs]
            files[spec.id] = [str(path) for path, _ in pairs]
        else:
            path = value[0] if isinstance(value, list) else value
            extra[spec.id] = load(path)
            files[spec.id] = str(path)
    return extra, files
