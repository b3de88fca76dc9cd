"""`tf.saved_model.load`: rebuild a SavedModel's objects, variables and functions, running no code from it.

    loaded = tf.saved_model.load("export")
    loaded(x)                                           # a saved tf.function, retraced never
    loaded.signatures["serving_default"](x=x)           # {"output_0": ...}

The folder's `saved_model.json` is read as data and checked before anything is built: every op type
must be registered here (and not one that needs a Python object), every input must name an earlier
op's output, every attribute must be one of the plain forms the saver writes, every file named must lie
inside the folder, and constants and the JSON itself have size limits. Graphs are then rebuilt op by op
with the graph engine's own shape functions, and run by its compiled plan. A hostile or damaged folder
gives a ValueError that names the folder and the problem. The graph checks and rebuilding are
course.graph.saved_model_graphs; the loaded functions and signatures, course.graph.saved_model_functions.
"""
import json
import os

from course.graph.saved_model import DIGESTED, FORMAT, SAVED_MODEL_FILE, file_digest
from course.graph.saved_model_functions import RestoredFunction, SignatureFunction, SignatureMap
from course.graph.saved_model_graphs import MAX_OPS, Refused, build, check, is_int
from course.tape.checkpoint_files import CheckpointReader
from course.tape.variables import Variable

__all__ = ["load", "MAX_JSON_BYTES"]

MAX_JSON_BYTES = 256 << 20


def _inside(export_dir, relative, what):
    """export_dir/relative, refused unless it stays inside export_dir (no absolute path, no '..', no link out)."""
    if not isinstance(relative, str) or not relative or relative.startswith(("/", "\\")) or ":" in relative:
        raise Refused(f"the path of its {what} ({relative!r}) is not a relative path inside the folder")
    parts = relative.replace("\\", "/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise Refused(f"the path of its {what} ({relative!r}) leaves the folder (path traversal)")
    path = os.path.join(export_dir, *parts)
    root = os.path.realpath(export_dir)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise Refused(f"the path of its {what} ({relative!r}) leads outside the folder through a link")
    return path


def _check_digests(digests, prefixes):
    """The variables and constants files are the ones the JSON was written with (an interrupted save into the
    same folder leaves a mix). Folders written before digests were recorded have none to check."""
    if digests is None:
        return
    check(isinstance(digests, dict), "its file digests are invalid")
    for role, suffix in DIGESTED:
        if digests.get(role + suffix) != file_digest(prefixes[role] + suffix):
            raise Refused(f"its file {_files_name(prefixes[role] + suffix)} is not the one saved with saved_model.json "
                          "(a save into this folder stopped half way, or the file was changed)")


def _files_name(path):
    return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))


def _read_meta(export_dir):
    path = os.path.join(export_dir, SAVED_MODEL_FILE)
    if not os.path.isfile(path):
        if os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
            raise ValueError(f"{export_dir} is a SavedModel written by TensorFlow (saved_model.pb); this course reads "
                             "the SavedModels it writes itself (saved_model.json). Re-export the model here, or save "
                             "it as .keras / weights.")
        raise OSError(f"SavedModel file does not exist at: {export_dir}{os.sep}{{saved_model.json}}")
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise Refused(f"saved_model.json is {size} bytes, more than the {MAX_JSON_BYTES} allowed")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(f"saved_model.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise Refused(f"saved_model.json does not say it is a {FORMAT!r} SavedModel")
    return meta


class _UserObject:
    """A loaded object: its saved children and functions as attributes, and `signatures` on the root."""


def _objects(meta, reader, export_dir):
    graph = meta.get("object_graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    check(isinstance(nodes, list) and nodes and len(nodes) <= MAX_OPS, "its object graph is missing")
    kinds, infos = meta.get("kinds", {}), meta.get("variables", {})
    check(isinstance(kinds, dict) and isinstance(infos, dict), "its object kinds are missing")
    objs, variables = [], {}
    for i, node in enumerate(nodes):
        check(isinstance(node, dict), f"object #{i} is not an object")
        kind = kinds.get(str(i), "object")
        if kind == "variable":
            attrs = node.get("attributes", [])
            check(isinstance(attrs, list) and attrs and isinstance(attrs[0], dict), f"variable #{i} has no value")
            key = attrs[0].get("checkpoint_key")
            check(isinstance(key, str) and reader.has_tensor(key), f"variable #{i} has no saved value")
            info = infos.get(key, {}) if isinstance(infos.get(key), dict) else {}
            name = info.get("name") if isinstance(info.get("name"), str) else None
            v = Variable(reader.get_tensor(key).copy(), trainable=bool(info.get("trainable", True)), name=name)
            variables[key] = v
            objs.append(v)
        else:
            objs.append([] if kind == "list" else {} if kind == "dict" else _UserObject())
    for i, node in enumerate(nodes):
        children = node.get("children", [])
        check(isinstance(children, list), f"object #{i} has invalid children")
        for c in children:
            check(isinstance(c, dict) and isinstance(c.get("name"), str) and is_int(c.get("node_id"))
                   and 0 <= c["node_id"] < len(nodes), f"object #{i} has an invalid child")
            parent, child = objs[i], objs[c["node_id"]]
            if isinstance(parent, list):
                parent.append(child)
            elif isinstance(parent, dict):
                parent[c["name"]] = child
            elif isinstance(parent, _UserObject):
                check(not c["name"].startswith("__"), f"object #{i} has a child named {c['name']!r}")
                setattr(parent, c["name"], child)
    return objs, variables


def load(export_dir, tags=None, options=None):
    """`tf.saved_model.load`: the saved root object with its variables, functions and `signatures`."""
    export_dir = os.fspath(export_dir)
    try:
        meta = _read_meta(export_dir)
        files = meta.get("files")
        check(isinstance(files, dict), "it names no files")
        prefixes = {role: _inside(export_dir, files.get(role), role) for role in ("variables", "constants")}
        _check_digests(meta.get("digests"), prefixes)
        reader = CheckpointReader(prefixes["variables"])
        constants = CheckpointReader(prefixes["constants"])
        objs, variables = _objects(meta, reader, export_dir)
        functions = meta.get("functions", [])
        check(isinstance(functions, list), "its functions are not a list")
        built = [None] * len(functions)

        def concrete(fid, owner):
            check(is_int(fid) and 0 <= fid < len(functions), "a function reference is invalid")
            if built[fid] is None:
                built[fid] = build(functions[fid], variables, constants, owner)
            return built[fid]
        attached = meta.get("attached", {})
        check(isinstance(attached, dict), "its attached functions are invalid")
        for nid, entries in attached.items():
            check(nid.isdigit() and int(nid) < len(objs) and isinstance(objs[int(nid)], _UserObject)
                   and isinstance(entries, dict), "a function is attached to no object")
            for name, entry in entries.items():
                check(isinstance(name, str) and not name.startswith("__") or name == "__call__",
                       f"a function has an invalid name {name!r}")
                fids = entry.get("traces") if isinstance(entry, dict) else None
                defaults = entry.get("defaults", {}) if isinstance(entry, dict) else None
                check(isinstance(fids, list) and isinstance(defaults, dict) and all(
                    v is None or isinstance(v, (bool, int, float, str)) for v in defaults.values()),
                    f"function {name!r} lists no traces")
                fn = RestoredFunction(name, defaults)
                fn.concrete_functions = [concrete(f, fn) for f in fids]
                if name == "__call__":
                    _bind_call(objs[int(nid)], fn)
                else:
                    setattr(objs[int(nid)], name, fn)
        sigs = meta.get("signatures", {})
        check(isinstance(sigs, dict), "its signatures are invalid")
        signatures = {}
        for name, entry in sigs.items():
            check(isinstance(entry, dict) and isinstance(entry.get("outputs"), list), f"signature {name!r} is invalid")
            cf = concrete(entry.get("function"), None)
            signatures[name] = SignatureFunction(cf, entry["outputs"])
        root = objs[0]
        check(isinstance(root, _UserObject), "its root is not an object")
        root.signatures = SignatureMap(signatures)
        return root
    except Refused as exc:
        raise ValueError(f"Cannot load the SavedModel in {export_dir}: {exc}. Nothing from it was run; export the "
                         "model again with tf.saved_model.save.") from None


def _bind_call(obj, fn):
    """`loaded(x)`: Python looks `__call__` up on the class, so each loaded object that has one gets its own."""
    obj.__class__ = type("_UserObject", (_UserObject,), {"__call__": lambda self, *a, **k: fn(*a, **k),
                                                         "__module__": _UserObject.__module__})
    obj.__dict__["__call__"] = fn
