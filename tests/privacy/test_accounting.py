"""The privacy budget: ε from dp-accounting against the values Opacus documents for its own
accountants (and Opacus' RDP accountant itself, an independent implementation), and the
calibration of a budget's noise."""

import pytest

from twinaudit.privacy.accounting import budget, epsilon_spent, noise_for_budget

# Opacus' accountant tests: σ = 1.5, q = 0.04, 2,250 steps, δ = 1e-5 gives ε = 7.3291 by its
# RDP accountant and 6.7774 by its PRV accountant; ε = 8 over 2,000 steps needs σ = 1.3562.
SIGMA, RATE, STEPS, DELTA = 1.5, 0.04, 2250, 1e-5


def test_rdp_epsilon_matches_opacus_documented_value_and_its_accountant():
    assert epsilon_spent(SIGMA, RATE, STEPS, DELTA, "rdp") == pytest.approx(7.32911, abs=1e-3)
    opacus = pytest.importorskip("opacus.accountants")
    accountant = opacus.RDPAccountant()
    accountant.history = [(SIGMA, RATE, STEPS)]
    assert epsilon_spent(SIGMA, RATE, STEPS, DELTA, "rdp") == pytest.approx(
        accountant.get_epsilon(DELTA), rel=1e-4)


def test_pld_epsilon_is_tighter_than_rdp_and_near_the_prv_value():
    pld = epsilon_spent(SIGMA, RATE, STEPS, DELTA, "pld")
    assert pld < epsilon_spent(SIGMA, RATE, STEPS, DELTA, "rdp")
    assert pld == pytest.approx(6.7774, abs=0.05)  # PLD and PRV both account (nearly) tightly


def test_calibrated_noise_matches_opacus_documented_value():
    assert noise_for_budget(8.0, DELTA, RATE, 2000) == pytest.approx(1.3562, abs=1e-3)


@pytest.mark.parametrize("epsilon", [pytest.param(1.0, marks=pytest.mark.slow),
                                     pytest.param(3.0, marks=pytest.mark.slow), 8.0])
def test_a_budget_spends_at_most_its_target_and_not_much_less(epsilon):
    entry = budget(epsilon, DELTA, n_rows=26_048, batch_size=256, epochs=10)
    assert entry["steps"] == 10 * 102 and entry["sampling"] == "poisson"
    assert 0.99 * epsilon <= entry["epsilon"]["rdp"] <= epsilon
    assert entry["epsilon"]["pld"] <= entry["epsilon"]["rdp"]
    # More noise for a smaller budget.
    assert entry["noise_multiplier"] > budget(2 * epsilon, DELTA, n_rows=26_048,
                                              batch_size=256, epochs=10)["noise_multiplier"]
