"""Lesson 02 (pix2pix): answers to the block, U-Net, PatchGAN, receptive-field, generator-loss and step exercises."""

from checker_catalogue import edit, equivalent, wrong

UP = '''
def upsample_with_skip(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)
    return layers.Concatenate()([x, skip])
'''

UNET = '''
def build_unet(image_size=256, channels=3, filters=64):
    widths = [min(filters * 2 ** i, filters * 8) for i in range(int(np.log2(image_size)))]
    inputs = keras.Input((image_size, image_size, channels))
    x, skips = inputs, []
    for i, f in enumerate(widths):
        if i == len(widths) - 1:
            x = layers.Conv2D(f, 4, strides=2, padding="same", kernel_initializer=INIT)(x)
            x = layers.LeakyReLU(negative_slope=0.2)(x)
        else:
            x = downsample(x, f, norm=i > 0)
        skips.append(x)
    for j, (f, skip) in enumerate(zip(reversed(widths[:-1]), reversed(skips[:-1]))):
        x = upsample_with_skip(x, skip, f, dropout=j < 3)
    outputs = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=INIT,
                                     activation="tanh")(x)
    return keras.Model(inputs, outputs)
'''

PATCH = '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    x_in = keras.Input((image_size, image_size, channels))
    y_in = keras.Input((image_size, image_size, channels))
    x = layers.Concatenate()([x_in, y_in])
    for i in range(n_down):
        x = downsample(x, filters * 2 ** i, norm=i > 0)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(filters * 2 ** n_down, 4, strides=1, use_bias=False, kernel_initializer=INIT)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(x))
    x = layers.ZeroPadding2D()(x)
    logits = layers.Conv2D(1, 4, strides=1, kernel_initializer=INIT)(x)
    return keras.Model([x_in, y_in], logits)
'''

STEP = '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        fake = generator(x, training=True)
        real_logits = discriminator([x, y], training=True)
        fake_logits = discriminator([x, fake], training=True)
        g_total, g_adv, g_l1 = generator_loss(fake_logits, fake, y, l1_weight)
        d_loss = discriminator_loss(real_logits, fake_logits)
    d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
'''

RF = '''
def receptive_field(layer_list):
    field = 1
    for kernel, stride, _padding in reversed(list(layer_list)):
        field = (field - 1) * stride + kernel
    return field
'''

GL = '''
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    adversarial = bce(tf.ones_like(fake_logits), fake_logits)
    l1 = tf.reduce_mean(tf.abs(target - generated))
    return adversarial + l1_weight * l1, adversarial, l1
'''

K = "02.upsample_with_skip"
ENTRIES = [
    # ---- the upsample block
    wrong(K, "ReLU before batch norm", edit(UP, '''    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)''', '''    x = layers.ReLU()(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)'''), "order", "BatchNormalization"),
    wrong(K, "no skip joined", edit(UP, "return layers.Concatenate()([x, skip])", "return x"), "skip", "channels"),
    # A ReLU and a dropout commute (dropout scales by 0 or 2, which keeps every sign): the same block.
    equivalent(K, "dropout after the ReLU", edit(UP, '''    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)''', '''    x = layers.ReLU()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)''')),
    wrong(K, "dropout whatever the flag", edit(UP, '''    if dropout:
        x = layers.Dropout(0.5)(x)''', '''    x = layers.Dropout(0.5)(x)'''), "dropout"),
    wrong(K, "a plain Conv2D with stride 2", edit(UP, "layers.Conv2DTranspose(", "layers.Conv2D("), "heights and widths"),
    wrong(K, "the default bias kept", edit(UP, "use_bias=False,", ""), "bias"),
    wrong(K, "joined along the height", edit(UP, "layers.Concatenate()", "layers.Concatenate(axis=1)"), "axis"),
    wrong(K, "the upsampled tensor joined with itself, the skip never used", edit(UP, "layers.Concatenate()([x, skip])",
                                                                               "layers.Concatenate()([x, x])"),
          "never uses", "skip"),
    wrong(K, "LeakyReLU as in the encoder", edit(UP, "layers.ReLU()(x)", "layers.LeakyReLU(0.2)(x)"), "activation"),
    equivalent(K, "skip first, the authors' order", edit(UP, "([x, skip])", "([skip, x])")),
    equivalent(K, "keras.ops.concatenate", edit(UP, "layers.Concatenate()([x, skip])", "keras.ops.concatenate([x, skip], axis=-1)")),
    equivalent(K, "Concatenate(axis=3), skip first", edit(UP, "layers.Concatenate()([x, skip])", "layers.Concatenate(axis=3)([skip, x])")),
    equivalent(K, "Activation('relu') and a rate-0 dropout", edit(UP, '''    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)''', '''    x = layers.Dropout(0.5 if dropout else 0.0)(x)
    x = layers.Activation("relu")(x)''')),
]

K = "02.unet"
ENTRIES += [
    wrong(K, "skips in encoder order", edit(UNET, "reversed(skips[:-1])", "skips[:-1]"), "skip"),
    wrong(K, "one skip left out", edit(UNET, '''        x = upsample_with_skip(x, skip, f, dropout=j < 3)''', '''        if j == 2:
            x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=False)(x)))
        else:
            x = upsample_with_skip(x, skip, f, dropout=j < 3)'''), "skip"),
    wrong(K, "dropout in the last three decoder blocks", edit(UNET, "dropout=j < 3", "dropout=j >= len(widths) - 4"), "dropout"),
    wrong(K, "batch norm on the first encoder block", edit(UNET, "norm=i > 0", "norm=True"), "batch norm"),
    wrong(K, "batch norm on the first block, the encoder blocks written out", edit(UNET, "            x = downsample(x, f, norm=i > 0)",
                                                                                 '''            x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
            x = layers.BatchNormalization()(x)
            x = layers.LeakyReLU(negative_slope=0.2)(x)'''), "first", "batch norm"),
    wrong(K, "no batch norm on the second encoder block either", edit(UNET, "norm=i > 0", "norm=i > 1"), "second", "batch norm"),
    wrong(K, "no tanh", edit(UNET, ''',
                                     activation="tanh")(x)''', ")(x)"), "activation"),
    wrong(K, "sigmoid output", edit(UNET, 'activation="tanh"', 'activation="sigmoid"'), "activation", "sigmoid"),
    wrong(K, "one encoder block too few", edit(UNET, "range(int(np.log2(image_size)))", "range(int(np.log2(image_size)) - 1)"),
          "count the blocks"),
    wrong(K, "batch norm in the bottleneck", edit(UNET, '''            x = layers.LeakyReLU(negative_slope=0.2)(x)
        else:''', '''            x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(x))
        else:'''), "batch norm"),
    wrong(K, "Keras's default LeakyReLU slope in the bottleneck", edit(UNET, "layers.LeakyReLU(negative_slope=0.2)(x)", "layers.LeakyReLU()(x)"),
          "slope"),
    equivalent(K, "skip first in each join (the authors' order)", edit(UNET, "x = upsample_with_skip(x, skip, f, dropout=j < 3)",
               '''x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
        x = layers.BatchNormalization()(x)
        if j < 3:
            x = layers.Dropout(0.5)(x)
        x = layers.ReLU()(x)
        x = layers.Concatenate()([skip, x])''')),
    equivalent(K, "keras.ops.concatenate and a separate tanh", edit(UNET, "x = upsample_with_skip(x, skip, f, dropout=j < 3)",
               '''x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.5)(x) if j < 3 else x
        x = keras.ops.concatenate([layers.ReLU()(x), skip], axis=-1)''', ''',
                                     activation="tanh")(x)''', ")(x)\n    outputs = layers.Activation('tanh')(outputs)")),
]

K = "02.patchgan"
ENTRIES += [
    wrong(K, "judges the target alone", edit(PATCH, "x = layers.Concatenate()([x_in, y_in])", "x = y_in",
                                             "keras.Model([x_in, y_in], logits)", "keras.Model(y_in, logits)"), "inputs"),
    wrong(K, "batch norm on the first block", edit(PATCH, "norm=i > 0", "norm=True"), "batch norm"),
    wrong(K, "batch norm on the first block, the blocks written out", edit(PATCH, "        x = downsample(x, filters * 2 ** i, norm=i > 0)",
                                                                         '''        x = layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)'''), "first", "batch norm"),
    wrong(K, "the input image judged alone, the target input never used", edit(PATCH, "x = layers.Concatenate()([x_in, y_in])", "x = x_in"),
          "never uses", "target"),
    wrong(K, "the target joined with itself, the input image never used", edit(PATCH, "([x_in, y_in])", "([y_in, y_in])"),
          "never uses", "input image"),
    wrong(K, "stride 2 in the last convolutions", edit(PATCH, "strides=1", "strides=2"), "stride"),
    wrong(K, "a sigmoid at the end", edit(PATCH, "strides=1, kernel_initializer=INIT)(x)\n    return",
                                          "strides=1, kernel_initializer=INIT, activation='sigmoid')(x)\n    return"), "logits"),
    wrong(K, "'same' padding instead of the zero paddings", edit(PATCH, "    x = layers.ZeroPadding2D()(x)\n", "",
                                                                "strides=1, use_bias=False,", "strides=1, padding='same', use_bias=False,",
                                                                "layers.Conv2D(1, 4, strides=1,", "layers.Conv2D(1, 4, strides=1, padding='same',"),
          "padding"),
    wrong(K, "a bias before batch norm", edit(PATCH, "strides=1, use_bias=False,", "strides=1,"), "bias"),
    wrong(K, "one downsample block too few", edit(PATCH, "for i in range(n_down):", "for i in range(n_down - 1):"), "blocks"),
    wrong(K, "a verdict per channel", edit(PATCH, "layers.Conv2D(1, 4,", "layers.Conv2D(channels, 4,"), "channels"),
    equivalent(K, "the pair joined [target, input]", edit(PATCH, "([x_in, y_in])", "([y_in, x_in])")),
    equivalent(K, "keras.ops.concatenate", edit(PATCH, "layers.Concatenate()([x_in, y_in])", "keras.ops.concatenate([x_in, y_in], axis=-1)")),
    equivalent(K, "layers.concatenate, the other order", edit(PATCH, "layers.Concatenate()([x_in, y_in])", "layers.concatenate([y_in, x_in])")),
]

K = "02.receptive_field"
ENTRIES += [
    wrong(K, "walks from the input", edit(RF, "reversed(list(layer_list))", "layer_list"), "from the input to the output"),
    wrong(K, "an index loop from the first layer", '''
def receptive_field(layer_list):
    layer_list = list(layer_list)
    field = 1
    for i in range(len(layer_list)):
        kernel, stride, _ = layer_list[i]
        field = (field - 1) * stride + kernel
    return field
''', "order"),
    wrong(K, "forgets the -1", edit(RF, "(field - 1) * stride", "field * stride"), "r - 1"),
    wrong(K, "ignores the strides", edit(RF, "(field - 1) * stride + kernel", "field + kernel - 1"), "strides"),
    wrong(K, "subtracts the padding", edit(RF, "for kernel, stride, _padding in", "for kernel, stride, padding in",
                                           "(field - 1) * stride + kernel", "(field - 1) * stride + kernel - 2 * padding"), "padding"),
    wrong(K, "starts from zero", edit(RF, "field = 1", "field = 0"), "start"),
    equivalent(K, "recursion, from the input side", '''
def receptive_field(layer_list):
    layer_list = list(layer_list)
    if not layer_list:
        return 1
    kernel, stride, _ = layer_list[0]
    return (receptive_field(layer_list[1:]) - 1) * stride + kernel
'''),
    equivalent(K, "jumps forward (the other classic formula)", '''
def receptive_field(layer_list):
    field, jump = 1, 1
    for kernel, stride, _ in layer_list:
        field += (kernel - 1) * jump
        jump *= stride
    return field
'''),
]

K = "02.generator_loss"
ENTRIES += [
    wrong(K, "the discriminator's label for fakes", edit(GL, "tf.ones_like(fake_logits)", "tf.zeros_like(fake_logits)"), "opposite verdict"),
    wrong(K, "returns the weighted L1", edit(GL, "return adversarial + l1_weight * l1, adversarial, l1",
                                             "l1 = l1_weight * l1\n    return adversarial + l1, adversarial, l1"), "weighted"),
    wrong(K, "100 written in", edit(GL, "adversarial + l1_weight * l1", "adversarial + 100 * l1"), "by hand"),
    wrong(K, "squared error", edit(GL, "tf.abs(target - generated)", "tf.square(target - generated)"), "squared"),
    wrong(K, "sigmoid before the BCE", edit(GL, "bce(tf.ones_like(fake_logits), fake_logits)",
                                            "bce(tf.ones_like(fake_logits), tf.sigmoid(fake_logits))"), "sigmoid"),
    equivalent(K, "keras.losses.MeanAbsoluteError", edit(GL, "tf.reduce_mean(tf.abs(target - generated))",
                                                         "keras.losses.MeanAbsoluteError()(target, generated)")),
    equivalent(K, "the course's stable BCE written out", edit(GL, "bce(tf.ones_like(fake_logits), fake_logits)",
               "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(fake_logits), logits=fake_logits))")),
]

K = "02.train_step"
ENTRIES += [
    wrong(K, "forward pass before the tapes", edit(STEP, '''    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        fake = generator(x, training=True)
        real_logits = discriminator([x, y], training=True)
        fake_logits = discriminator([x, fake], training=True)''', '''    fake = generator(x, training=True)
    real_logits = discriminator([x, y], training=True)
    fake_logits = discriminator([x, fake], training=True)
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:'''), "tape", "with"),
    wrong(K, "alternating: D first, then G through the new D", edit(STEP, '''    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)''', '''    with tf.GradientTape() as gen_tape:
        fake = generator(x, training=True)
        g_total, g_adv, g_l1 = generator_loss(discriminator([x, fake], training=True), fake, y, l1_weight)
    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)'''), "order", "alternating", "simultaneous"),
    wrong(K, "alternating: G first, then D on the new fakes", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as tape:
        fake = generator(x, training=True)
        g_total, g_adv, g_l1 = generator_loss(discriminator([x, fake], training=True), fake, y, l1_weight)
    gen_optimizer.apply_gradients(zip(tape.gradient(g_total, generator.trainable_variables), generator.trainable_variables))
    with tf.GradientTape() as tape:
        fake = generator(x, training=True)
        d_loss = discriminator_loss(discriminator([x, y], training=True), discriminator([x, fake], training=True))
    disc_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
''', "order", "alternating"),
    wrong(K, "each pair in the other order", edit(STEP, "discriminator([x, y]", "discriminator([y, x]", "discriminator([x, fake]", "discriminator([fake, x]"),
          "order", "pair"),
    wrong(K, "optimizers swapped", edit(STEP, "disc_optimizer.apply_gradients", "gen_optimizer.apply_gradients",
                                        "    gen_optimizer.apply_gradients(zip(g_grads", "    disc_optimizer.apply_gradients(zip(g_grads"), "optimizer"),
    wrong(K, "training=False", STEP.replace("training=True", "training=False"), "inference mode"),
    wrong(K, "100 written in", edit(STEP, "generator_loss(fake_logits, fake, y, l1_weight)", "generator_loss(fake_logits, fake, y, 100.0)"), "by hand"),
    wrong(K, "the discriminator judges the target alone", edit(STEP, "discriminator([x, y]", "discriminator([y, y]", "discriminator([x, fake]", "discriminator([fake, fake]"),
          "pairs"),
    wrong(K, "the lesson 01 loss, not halved", edit(STEP, "d_loss = discriminator_loss(real_logits, fake_logits)",
                                                    "d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)"),
          "twice"),
    wrong(K, "the course's discriminator_loss with its default, no halving", edit(STEP, "d_loss = discriminator_loss(real_logits, fake_logits)",
                                                                              "d_loss = losses.discriminator_loss(real_logits, fake_logits)"),
          "twice", "half"),
    wrong(K, "the fake pair holds the target (one persistent tape)", edit(STEP,
          "with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:", "with tf.GradientTape(persistent=True) as gen_tape:",
          "disc_tape.gradient", "gen_tape.gradient", "discriminator([x, fake], training=True)", "discriminator([x, y], training=True)"),
          "fake", "generated image"),
    wrong(K, "the fake pair holds the input image twice", edit(STEP, "discriminator([x, fake], training=True)", "discriminator([x, x], training=True)"),
          "fake", "generated image"),
    wrong(K, "L1 against the input image", edit(STEP, "generator_loss(fake_logits, fake, y, l1_weight)", "generator_loss(fake_logits, fake, x, l1_weight)"),
          "input"),
    equivalent(K, "one persistent tape", edit(STEP, "with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:",
                                              "with tf.GradientTape(persistent=True) as gen_tape:",
                                              "disc_tape.gradient", "gen_tape.gradient")),
    equivalent(K, "the generator's update applied first", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        fake = generator(x, training=True)
        fake_logits = discriminator([x, fake], training=True)
        real_logits = discriminator([x, y], training=True)
        g_total, g_adv, g_l1 = generator_loss(fake_logits, fake, y, l1_weight)
        d_loss = discriminator_loss(real_logits, fake_logits)
    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)
    d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
'''),
    equivalent(K, "Keras's BinaryCrossentropy for D, written inline", edit(STEP, "d_loss = discriminator_loss(real_logits, fake_logits)",
               "d_bce = keras.losses.BinaryCrossentropy(from_logits=True)\n        "
               "d_loss = (d_bce(tf.ones_like(real_logits), real_logits) + d_bce(tf.zeros_like(fake_logits), fake_logits)) / 2")),
]

# Named since the blind2 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong("02.upsample_with_skip", "He initialisation instead of INIT",
          edit(UP, "kernel_initializer=INIT", 'kernel_initializer="he_normal"'), "initialiser", "INIT"),
    wrong("02.generator_loss", "the L1 summed over each image's pixels, then averaged over the batch",
          edit(GL, "tf.reduce_mean(tf.abs(target - generated))",
               "tf.reduce_mean(tf.reduce_sum(tf.abs(target - generated), axis=[1, 2, 3]))"), "mean", "sum"),
    wrong(K, "the fake pair conditioned on y (one persistent tape)",
          edit(STEP, "with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:",
               "with tf.GradientTape(persistent=True) as gen_tape:", "disc_tape.gradient", "gen_tape.gradient",
               "discriminator([x, fake], training=True)", "discriminator([y, fake], training=True)"), "input", "target"),
    wrong(K, "the generator called with no training argument",
          edit(STEP, "fake = generator(x, training=True)", "fake = generator(x)"), "training", "inference mode"),
    wrong(K, "one persistent tape, the generator's gradient of g_adv",
          edit(STEP, "with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:",
               "with tf.GradientTape(persistent=True) as gen_tape:", "disc_tape.gradient", "gen_tape.gradient",
               "gen_tape.gradient(g_total,", "gen_tape.gradient(g_adv,"), "total", "L1"),
    wrong(K, "the discriminator judges a detached copy of the fakes for both losses",
          edit(STEP, "fake_logits = discriminator([x, fake], training=True)",
               "held = tf.stop_gradient(fake)\n        fake_logits = discriminator([x, held], training=True)"),
          "adversarial", "stop_gradient"),
]

# Named since the blind3 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong(K, "the discriminator called with no training argument",
          edit(STEP, "discriminator([x, y], training=True)", "discriminator([x, y])",
               "discriminator([x, fake], training=True)", "discriminator([x, fake])"), "discriminator", "training"),
]
