"""The rule's own tests, natively: `python -m unittest`."""

import unittest

import costwatch_rule as cw
from costwatch_rule import testing

from app import MyRule


class MyRuleTest(unittest.TestCase):
    def test_fires_on_a_big_day_only(self):
        amounts = [20.0] * 60
        self.assertEqual(testing.run(MyRule, [testing.series(amounts)]), [])
        (found,) = testing.run(MyRule, [testing.series(amounts + [100.0])])
        self.assertIn("5.0×", found.message)

    def test_rejects_unknown_and_out_of_bounds_settings(self):
        with self.assertRaises(cw.BadConfig):
            testing.run(MyRule, [], config={"ratoi": 2.0})
        with self.assertRaisesRegex(cw.BadConfig, "ratio = 0.5: must be at least 1"):
            testing.run(MyRule, [], config={"ratio": 0.5})


if __name__ == "__main__":
    unittest.main()
