"""{name}: a costwatch rule plugin written in Python.

Build: componentize-py -d wit -w rule-plugin componentize app -o {file}.wasm
Try:   costwatch rule test {file}.wasm --data CUR_FILE_OR_DIR
"""

import costwatch_rule as cw


class MyRule(cw.Rule):
    id = "{name}"
    version = "0.1.0"
    description = "a day well above the median of the days before it"
    history_days = 90

    window_days = cw.days(28, "days before the evaluated day that form the baseline", min=7, max=89)
    ratio = cw.number(3.0, "fire when the day costs this many times the baseline", min=1.0)
    min_daily = cw.number(10.0, "ignore days cheaper than this (dollars)", min=0.0)

    def check(self, ctx, s):
        today = s.last()
        # Known days only: the zeros before the first billing day are not spend.
        base = cw.median(s.known()[-1 - self.window_days:-1])
        if today < self.min_daily or not base > 0 or today < self.ratio * base:
            return None
        return cw.Finding(
            s.key,
            cw.Severity.WARNING,
            observed=today,
            expected=base,
            message=(
                f"{s.key.label()} cost {cw.money(today)} on {ctx.day}, "
                f"{today / base:.1f}× its usual {cw.money(base)}"
            ),
            score=today / base,
        )


# componentize-py exports the module's `Rule` as costwatch:rule/rule.
Rule = cw.export(MyRule)
