"""A Python rule plugin that misbehaves on purpose (`mode` = raise, hog) or reports every
series with its total (`mode` = sum): the sandbox, batch-size and benchmark tests use it."""

import costwatch_rule as cw

MODES = ("raise", "hog", "sum")


class Misbehave(cw.Rule):
    id = "python-misbehave"
    description = "misbehaves on purpose (tests)"
    history_days = 4000

    mode = cw.text("sum", "raise, hog or sum")

    def validate(self):
        if self.mode not in MODES:
            raise cw.BadConfig(f"mode = {self.mode!r}: use one of {', '.join(MODES)}")

    def check(self, ctx, s):
        if self.mode == "raise":
            raise ValueError(f"no baseline for {s.key.usage_type}")
        if self.mode == "hog":
            hoard = []
            while True:
                hoard.append([1.0] * 1_000_000)
        return cw.Finding(s.key, cw.Severity.INFO, s.last(), 0.0, f"total {sum(s.amounts):.2f}")


Rule = cw.export(Misbehave)
