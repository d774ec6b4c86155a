"""Lesson 01 (GAN basics): answers to the two losses, the DCGAN generator and the training step."""

from checker_catalogue import edit, equivalent, wrong

DL = '''
def discriminator_loss(real_logits, fake_logits):
    real_loss = bce_from_logits(tf.ones_like(real_logits), real_logits)
    fake_loss = bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
    return real_loss + fake_loss
'''

GL = '''
def generator_loss(fake_logits):
    return bce_from_logits(tf.ones_like(fake_logits), fake_logits)
'''

GEN = '''
def build_generator(latent_dim=100, filters=256):
    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * filters, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape((7, 7, filters))(x)
    x = layers.Conv2DTranspose(filters // 2, 5, strides=1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    return keras.Model(z, image, name="generator")
'''

STEP = '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_loss = generator_loss(fake_logits)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
'''

K = "01.discriminator_loss"
ENTRIES = [
    wrong(K, "labels swapped", edit(DL, "tf.ones_like(real_logits)", "tf.zeros_like(real_logits)", "tf.zeros_like(fake_logits)", "tf.ones_like(fake_logits)"),
          "label"),
    wrong(K, "the two terms averaged", edit(DL, "return real_loss + fake_loss", "return (real_loss + fake_loss) / 2"), "half"),
    wrong(K, "sigmoid before the BCE", edit(DL, "real_logits), real_logits)", "real_logits), tf.sigmoid(real_logits))",
                                            "fake_logits), fake_logits)", "fake_logits), tf.sigmoid(fake_logits))"), "sigmoid"),
    wrong(K, "the fakes forgotten", edit(DL, "return real_loss + fake_loss", "return real_loss"), "fakes"),
]

K = "01.generator_loss"
ENTRIES += [
    wrong(K, "the discriminator's label", edit(GL, "tf.ones_like", "tf.zeros_like"), "opposite verdict"),
    wrong(K, "the minimax log(1 - D)", edit(GL, "return bce_from_logits(tf.ones_like(fake_logits), fake_logits)",
                                           "return -bce_from_logits(tf.zeros_like(fake_logits), fake_logits)"), "saturating"),
    wrong(K, "sigmoid before the BCE", edit(GL, "fake_logits), fake_logits)", "fake_logits), tf.sigmoid(fake_logits))"), "sigmoid"),
    wrong(K, "label 0 given as a number", edit(GL, "bce_from_logits(tf.ones_like(fake_logits), fake_logits)",
                                              "bce_from_logits(0.0, fake_logits)"), "label", "opposite verdict"),
    wrong(K, "the minimax written with log and sigmoid", edit(GL, "return bce_from_logits(tf.ones_like(fake_logits), fake_logits)",
                                                              "return tf.reduce_mean(tf.math.log(1.0 - tf.sigmoid(fake_logits)))"), "saturating"),
]

K = "01.build_generator"
ENTRIES += [
    wrong(K, "LeakyReLU before batch norm", edit(GEN, '''    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape''', '''    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Reshape'''), "order"),
    wrong(K, "sigmoid output", edit(GEN, 'activation="tanh"', 'activation="sigmoid"'), "activation"),
    wrong(K, "the default biases", GEN.replace(", use_bias=False", ""), "bias"),
    wrong(K, "no batch norm after the Dense layer", edit(GEN, '''use_bias=False)(z)
    x = layers.BatchNormalization()(x)''', '''use_bias=False)(z)'''), "batch norm"),
    wrong(K, "stride 2 in the first transposed convolution", edit(GEN, "filters // 2, 5, strides=1", "filters // 2, 5, strides=2"), "stride"),
    wrong(K, "LeakyReLU 0.2 (the DCGAN paper's discriminator)", GEN.replace("negative_slope=0.3", "negative_slope=0.2"), "slope"),
    wrong(K, "4x4 kernels", GEN.replace(", 5, strides", ", 4, strides"), "kernel"),
    equivalent(K, "a separate tanh, positional slope", edit(GEN, ', activation="tanh")(x)', ")(x)\n    image = layers.Activation('tanh')(image)").replace(
        "layers.LeakyReLU(negative_slope=0.3)", "layers.LeakyReLU(0.3)")),
    equivalent(K, "Reshape with -1 and keras.ops.tanh", edit(GEN, "layers.Reshape((7, 7, filters))", "layers.Reshape((7, 7, -1))",
                                                          ', activation="tanh")(x)', ")(x)\n    image = keras.ops.tanh(image)")),
]

K = "01.train_step"
ENTRIES += [
    wrong(K, "forward pass before the tapes", edit(STEP, '''    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)''', '''    fake = generator(noise, training=True)
    real_logits = discriminator(real, training=True)
    fake_logits = discriminator(fake, training=True)
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:'''), "tape", "with"),
    wrong(K, "alternating: D first, then G through the new D", edit(STEP, '''    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))''', '''    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    with tf.GradientTape() as g_tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)'''), "order", "alternating", "simultaneous"),
    wrong(K, "alternating: G first, then D on the new fakes", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(generator(noise, training=True), training=True))
    d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
''', "order", "alternating"),
    wrong(K, "fresh noise drawn inside the step", edit(STEP, "fake = generator(noise, training=True)",
                                                       "fake = generator(tf.random.normal(tf.shape(noise)), training=True)"), "noise"),
    wrong(K, "optimizers swapped", edit(STEP, "    d_optimizer.apply_gradients", "    g_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))\n    #",
                                        "    g_optimizer.apply_gradients(zip(g_grads", "    d_optimizer.apply_gradients(zip(g_grads"), "optimizer"),
    wrong(K, "training=False", STEP.replace("training=True", "training=False"), "inference mode"),
    wrong(K, "the generator called with no training argument", edit(STEP, "fake = generator(noise, training=True)",
                                                                    "fake = generator(noise)"), "inference mode", "training"),
    wrong(K, "one loss for both players", edit(STEP, "d_grads = d_tape.gradient(d_loss,", "d_grads = d_tape.gradient(d_loss + g_loss,",
                                               "g_grads = g_tape.gradient(g_loss,", "g_grads = g_tape.gradient(d_loss + g_loss,"), "own loss"),
    wrong(K, "the minimax generator loss", edit(STEP, "g_loss = generator_loss(fake_logits)",
                                                "g_loss = -bce_from_logits(tf.zeros_like(fake_logits), fake_logits)"), "minimax"),
    wrong(K, "the fakes labelled real for D", edit(STEP, "d_loss = discriminator_loss(real_logits, fake_logits)",
                                                   "d_loss = bce_from_logits(tf.ones_like(real_logits), real_logits) + bce_from_logits(tf.ones_like(fake_logits), fake_logits)"),
          "label"),
    wrong(K, "one plain tape asked twice", edit(STEP, "with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:", "with tf.GradientTape() as g_tape:",
                                                "d_tape.gradient", "g_tape.gradient"), "persistent"),
    equivalent(K, "one persistent tape", edit(STEP, "with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:",
                                              "with tf.GradientTape(persistent=True) as tape:", "d_tape.gradient", "tape.gradient", "g_tape.gradient", "tape.gradient")),
    equivalent(K, "the generator's update applied first", edit(STEP, '''    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))''', '''    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))''')),
    equivalent(K, "real and fakes through D in one batch", edit(STEP, '''        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)''', '''        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        both = tf.concat([real_logits, fake_logits], axis=0)
        real_logits, fake_logits = both[:tf.shape(real)[0]], both[tf.shape(real)[0]:]''')),
]

# Named since the blind2 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong("01.discriminator_loss", "both terms subtracted (the value D maximises)",
          edit(DL, "return real_loss + fake_loss", "return -real_loss - fake_loss"), "sign"),
    wrong("01.generator_loss", "log D(G(z)) without its minus sign",
          edit(GL, "return bce_from_logits(tf.ones_like(fake_logits), fake_logits)",
               "return tf.reduce_mean(tf.math.log(tf.sigmoid(fake_logits)))"), "sign"),
    wrong(K, "the discriminator called with no training argument",
          edit(STEP, "discriminator(real, training=True)", "discriminator(real)",
               "discriminator(fake, training=True)", "discriminator(fake)"), "training", "dropout"),
    wrong(K, "the fakes detached where they are made",
          edit(STEP, "fake = generator(noise, training=True)", "fake = tf.stop_gradient(generator(noise, training=True))"),
          "generator", "stop_gradient"),
    wrong(K, "the discriminator's labels given the other way round inside the step",
          edit(STEP, "d_loss = discriminator_loss(real_logits, fake_logits)",
               "d_loss = bce_from_logits(tf.zeros_like(real_logits), real_logits) + "
               "bce_from_logits(tf.ones_like(fake_logits), fake_logits)"), "real", "label"),
]

# Named since the blind3 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong(K, "one persistent tape, the discriminator's gradient of g_loss",
          edit(STEP, "with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:",
               "with tf.GradientTape(persistent=True) as tape:", "d_tape.gradient(d_loss,", "tape.gradient(g_loss,",
               "g_tape.gradient", "tape.gradient"), "discriminator", "own loss"),
]
