"""Identifiers resolved once: the name, config dict, class or callable a user passes for an
optimizer, a loss, an initializer, an activation, a metric or a regularizer (Keras'
`serialization_lib`, instead of one `get()` per kind).

    OPTIMIZERS = Registry("optimizer", {"sgd": SGD, "adam": Adam}, base=Optimizer, ignore_case=True,
                          callables=False, none=NO_DEFAULT)
    OPTIMIZERS.get("Adam")                                        # Adam()
    OPTIMIZERS.get({"class_name": "Adam", "config": {...}})       # Adam.from_config({...})
    OPTIMIZERS.get(Adam) / OPTIMIZERS.get(Adam(0.1))              # Adam() / that object

Every kind fails with one wording, which starts as Keras' own and adds what was expected and the
valid names:

    ValueError: Could not interpret optimizer identifier: adm. Expected a name (any case), a config
    dict {'class_name': ..., 'config': {...}} or an Optimizer class or object; valid names: adam, sgd.

An unknown name or class name raises ValueError (as Keras does); a value of the wrong type
(a number, say) raises TypeError with the same sentence.
"""
__all__ = ["Registry", "NO_DEFAULT"]

NO_DEFAULT = object()          # `none=NO_DEFAULT`: None is not an identifier of this kind


def _make(obj):
    """A registered class is instantiated with its defaults; a registered function is the object."""
    return obj() if isinstance(obj, type) else obj


def _from_config(cls, config):
    return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


def _same(obj):
    return obj


class Registry:
    """The identifiers of one kind of object.

    names:        {name: class or function} for string identifiers (`ignore_case` folds case)
    classes:      {class_name: class} for config dicts {'class_name': ..., 'config': {...}};
                  defaults to the classes among `names`, under their own `__name__`
    base:         instances of it are returned as they are; subclasses of it go through `make`
    none:         what `get(None)` returns (NO_DEFAULT: None is refused)
    callables:    whether any other callable is accepted (`from_callable` turns it into the result)
    names_are_classes: whether a class name ('MeanSquaredError') also works as a string identifier
    make:         registered class or function -> result (default: a class is instantiated, a
                  function is returned); from_config(cls, config) -> result (default:
                  `cls.from_config(config)` where it exists, else `cls(**config)`)
    """

    def __init__(self, kind, names, *, classes=None, base=None, none=None, callables=True, ignore_case=False,
                 names_are_classes=False, make=_make, from_config=_from_config, from_callable=_same):
        self.kind = kind
        self.ignore_case = ignore_case
        self.names = {self._key(k): v for k, v in names.items()}
        if classes is None:
            classes = {v.__name__: v for v in names.values() if isinstance(v, type)}
        self.classes = dict(classes)
        self.names_are_classes = names_are_classes
        self.base, self.none, self.callables = base, none, callables
        self.make, self.from_config, self.from_callable = make, from_config, from_callable

    def _key(self, name):
        return name.lower() if self.ignore_case else name

    def register(self, name, obj):
        """Add a name (for example a user's custom class) after the registry was made."""
        self.names[self._key(name)] = obj
        if isinstance(obj, type):
            self.classes.setdefault(obj.__name__, obj)
        return obj

    # --- one wording for every failure -------------------------------------------------------------
    def expected(self) -> str:
        what = ["a name (any case)" if self.ignore_case else "a name",
                "a config dict {'class_name': ..., 'config': {...}}" if self.classes else None]
        if self.base is not None:
            name = self.base.__name__
            what.append(f"{'an' if name[0] in 'AEIOU' else 'a'} {name} class or object")
        if self.callables:
            what.append("a callable")
        if self.none is not NO_DEFAULT:
            what.append("None")
        what = [w for w in what if w]
        return ", ".join(what[:-1]) + " or " + what[-1] if len(what) > 1 else what[0]

    def valid_names(self, config=False) -> list:
        if config:
            return sorted(self.classes)
        names = set(self.names) | (set(self.classes) if self.names_are_classes else set())
        return sorted(names)

    def error(self, identifier, *, config=False, cls=ValueError):
        """The one error: what arrived, what was expected, and the valid names."""
        valid = self.valid_names(config)
        which = "valid class names" if config else "valid names"
        return cls(f"Could not interpret {self.kind} identifier: {identifier}. Expected {self.expected()}; "
                   f"{which}: {', '.join(valid)}.")

    # --- lookups ---------------------------------------------------------------------------------
    def lookup(self, name):
        """The class or function registered under a string name; the one error when there is none."""
        found = self.names.get(self._key(name))
        if found is None and self.names_are_classes:
            found = self.classes.get(name)
        if found is None:
            raise self.error(name)
        return found

    def lookup_config(self, config):
        """The class named by a config dict's 'class_name'."""
        cls = self.classes.get(config.get("class_name"))
        if cls is None:
            raise self.error(config, config=True)
        return cls

    def get(self, identifier, *, make=None, from_config=None, from_callable=None):
        """The object for `identifier`: a name, a config dict, a class, an object of `base`, a
        callable or None (see the class docstring); keyword arguments override this call's hooks."""
        if identifier is None:
            if self.none is NO_DEFAULT:
                raise self.error(identifier, cls=TypeError)
            return self.none
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            return (make or self.make)(self.lookup(identifier))
        if isinstance(identifier, dict) and self.classes:
            cls = self.lookup_config(identifier)
            return (from_config or self.from_config)(cls, dict(identifier.get("config") or {}))
        if isinstance(identifier, type) and self.base is not None and issubclass(identifier, self.base):
            return (make or self.make)(identifier)
        if self.callables and callable(identifier):
            return (from_callable or self.from_callable)(identifier)
        raise self.error(identifier, cls=TypeError)
