"""Lesson 04 (training on Colab): answers to the linear decay and the loss-scale update."""

from checker_catalogue import edit, equivalent, wrong

LD = '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step, dtype=np.float64)
    return lr0 * np.clip(1.0 - (step - constant_steps) / decay_steps, 0.0, 1.0)
'''

LS = '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if not finite:
        return scale / 2, 0, False
    if good_steps + 1 == growth_steps:
        return scale * 2, 0, True
    return scale, good_steps + 1, True
'''

K = "04.linear_decay"
ENTRIES = [
    wrong(K, "no clip", edit(LD, "np.clip(1.0 - (step - constant_steps) / decay_steps, 0.0, 1.0)", "(1.0 - (step - constant_steps) / decay_steps)"),
          "between 0 and 1"),
    wrong(K, "decays from step 0", edit(LD, "(step - constant_steps)", "step"), "step 0"),
    wrong(K, "decays over constant + decay steps", edit(LD, "/ decay_steps", "/ (constant_steps + decay_steps)"), "decay_steps"),
    wrong(K, "one step early", edit(LD, "(step - constant_steps)", "(step + 1 - constant_steps)"), "one step"),
    equivalent(K, "np.where", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step, dtype=np.float64)
    frac = (step - constant_steps) / decay_steps
    return np.where(step < constant_steps, lr0, np.where(frac >= 1, 0.0, lr0 * (1 - frac)))
'''),
]

K = "04.update_loss_scale"
ENTRIES += [
    wrong(K, "applies the update on overflow", edit(LS, "return scale / 2, 0, False", "return scale / 2, 0, True"), "inf or nan"),
    wrong(K, "the apply flag always True, one return", '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if not finite:
        scale, good_steps = scale / 2, 0
    elif good_steps + 1 >= growth_steps:
        scale, good_steps = scale * 2, 0
    else:
        good_steps += 1
    return scale, good_steps, True
''', "inf or nan", "skip"),
    wrong(K, "keeps counting after an overflow", edit(LS, "return scale / 2, 0, False", "return scale / 2, good_steps, False"), "after an overflow"),
    wrong(K, "grows one step late", edit(LS, "good_steps + 1 == growth_steps", "good_steps == growth_steps"), "late"),
    equivalent(K, ">= and a counter variable", '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if finite:
        count = good_steps + 1
        if count >= growth_steps:
            return 2.0 * scale, 0, True
        return scale, count, True
    return 0.5 * scale, 0, False
'''),
]

# Named since the blind2 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong("04.linear_decay", "the authors' per-epoch rule, written with np.clip",
          edit(LD, "np.clip(1.0 - (step - constant_steps) / decay_steps, 0.0, 1.0)",
               "(1.0 - np.clip(step + 1 - constant_steps, 0, None) / (decay_steps + 1))"), "decay_steps", "PyTorch"),
    wrong("04.linear_decay", "np.floor_divide", edit(LD, "(step - constant_steps) / decay_steps",
                                                     "np.floor_divide(step - constant_steps, decay_steps)"), "integer"),
    wrong("04.update_loss_scale", "the count set to growth_steps when the scale doubles",
          edit(LS, "return scale * 2, 0, True", "return scale * 2, growth_steps, True"), "reset"),
    wrong("04.update_loss_scale", "halves after a finite run, doubles on an overflow",
          edit(LS, "return scale / 2, 0, False", "return scale * 2.0, 0, False", "return scale * 2, 0, True",
               "return 0.5 * scale, 0, True"), "halve", "overflow"),
]
