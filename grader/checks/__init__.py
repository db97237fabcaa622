"""The check protocol (:mod:`.base`: Check, Battery, CheckFailed, the runner) and gradient helpers
(:mod:`.gradients`); batteries live in course definitions, composed from :mod:`grader.layercheck`."""
