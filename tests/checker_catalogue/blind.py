"""A second, blind catalogue of learners' answers (written without reading the checkers, the exercise
sets or the other catalogues): wrong answers as learners write them, and right answers spelled
differently. An entry whose ``what`` starts with "[miss] " is one the checkers did not handle as
catalogued on the first run (missed, caught without the words, or an equivalent rejected): it is
kept as first written and expected to fail (xfail, strict) so that the finding stays visible. Once
the checkers handle it, the prefix goes and the description ends "(a miss on the blind run, named
since)"; the first catalogue (``lessonNN.py``) then holds the same mistake written another way.
"""

from __future__ import annotations

from checker_catalogue import edit, equivalent, wrong

# ---------------------------------------------------------------- lesson 01 ----------------------
D_LOSS_01 = '''
def discriminator_loss(real_logits, fake_logits):
    real_term = bce_from_logits(tf.ones_like(real_logits), real_logits)
    fake_term = bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
    return real_term + fake_term
'''

G_LOSS_01 = '''
def generator_loss(fake_logits):
    return bce_from_logits(tf.ones_like(fake_logits), fake_logits)
'''

GEN_01 = '''
def build_generator(latent_dim=100, filters=256):
    z = keras.Input((latent_dim,))
    h = layers.Dense(7 * 7 * filters, use_bias=False)(z)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(negative_slope=0.3)(h)
    h = layers.Reshape((7, 7, filters))(h)
    h = layers.Conv2DTranspose(filters // 2, 5, strides=1, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(negative_slope=0.3)(h)
    h = layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(negative_slope=0.3)(h)
    img = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(h)
    return keras.Model(z, img, name="generator")
'''

STEP_01 = '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as gt, tf.GradientTape() as dt:
        fakes = generator(noise, training=True)
        r = discriminator(real, training=True)
        f = discriminator(fakes, training=True)
        dl = discriminator_loss(r, f)
        gl = generator_loss(f)
    dg = dt.gradient(dl, discriminator.trainable_variables)
    gg = gt.gradient(gl, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(dg, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(gg, generator.trainable_variables))
    return {"d_loss": dl, "g_loss": gl}
'''

LESSON01 = [
    wrong("01.discriminator_loss", "labels swapped: real scored 0, fakes 1",
          edit(D_LOSS_01, "tf.ones_like(real_logits)", "tf.zeros_like(real_logits)",
               "tf.zeros_like(fake_logits)", "tf.ones_like(fake_logits)"), "label"),
    wrong("01.discriminator_loss", "sigmoid applied to the logits before the from-logits BCE",
          edit(D_LOSS_01, "real_logits), real_logits)", "real_logits), tf.sigmoid(real_logits))",
               "fake_logits), fake_logits)", "fake_logits), tf.sigmoid(fake_logits))"), "sigmoid"),
    equivalent("01.discriminator_loss", "Keras BinaryCrossentropy(from_logits=True) object, ops.ones_like", '''
loss_object = keras.losses.BinaryCrossentropy(from_logits=True)
def discriminator_loss(real_logits, fake_logits):
    return loss_object(ops.ones_like(real_logits), real_logits) + loss_object(ops.zeros_like(fake_logits), fake_logits)
'''),
    wrong("01.generator_loss", "the minimax (saturating) loss: -BCE(0, fake), i.e. log(1 - D(G(z)))",
          edit(G_LOSS_01, "return bce_from_logits(tf.ones_like", "return -bce_from_logits(tf.zeros_like"), "saturat"),
    wrong("01.generator_loss", "label 0 on the fakes (the discriminator's label) (a miss on the blind run, named since)",
          edit(G_LOSS_01, "tf.ones_like", "tf.zeros_like"), "label"),
    equivalent("01.generator_loss", "softplus(-logit) by hand", '''
def generator_loss(fake_logits):
    return tf.reduce_mean(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))
'''),
    wrong("01.build_generator", "Dense keeps its bias before batch norm",
          edit(GEN_01, "layers.Dense(7 * 7 * filters, use_bias=False)", "layers.Dense(7 * 7 * filters)"), "bias"),
    wrong("01.build_generator", "strides swapped: 2 then 1 (same output shape)",
          edit(GEN_01, "filters // 2, 5, strides=1", "filters // 2, 5, strides=2",
               "filters // 4, 5, strides=2", "filters // 4, 5, strides=1"), "stride"),
    wrong("01.build_generator", "sigmoid output instead of tanh",
          edit(GEN_01, 'activation="tanh"', 'activation="sigmoid"'), "tanh"),
    equivalent("01.build_generator", "keras.Sequential with an Input", '''
def build_generator(latent_dim=100, filters=256):
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * filters, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(negative_slope=0.3),
        layers.Reshape((7, 7, filters)),
        layers.Conv2DTranspose(filters // 2, (5, 5), strides=(1, 1), padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(negative_slope=0.3),
        layers.Conv2DTranspose(filters // 4, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(negative_slope=0.3),
        layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"),
    ], name="generator")
'''),
    wrong("01.train_step", "generator called with training=False (batch norm in inference mode) (a miss on the blind run, named since)",
          edit(STEP_01, "generator(noise, training=True)", "generator(noise, training=False)"), "training"),
    wrong("01.train_step", "fresh noise drawn inside the step instead of the noise given",
          edit(STEP_01, "fakes = generator(noise", "fakes = generator(tf.random.normal(tf.shape(noise))"), "noise"),
    wrong("01.train_step", "alternating update: G's loss recomputed through the already-updated D", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as dt:
        fakes = generator(noise, training=True)
        dl = discriminator_loss(discriminator(real, training=True), discriminator(fakes, training=True))
    dg = dt.gradient(dl, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(dg, discriminator.trainable_variables))
    with tf.GradientTape() as gt:
        fakes = generator(noise, training=True)
        gl = generator_loss(discriminator(fakes, training=True))
    gg = gt.gradient(gl, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(gg, generator.trainable_variables))
    return {"d_loss": dl, "g_loss": gl}
''', "alternat"),
    wrong("01.train_step", "optimizers swapped: d_optimizer steps the generator and g_optimizer the discriminator",
          edit(STEP_01, "d_optimizer.apply_gradients(zip(dg", "g_optimizer.apply_gradients(zip(dg",
               "g_optimizer.apply_gradients(zip(gg", "d_optimizer.apply_gradients(zip(gg"), "optimizer"),
    equivalent("01.train_step", "one persistent tape, the generator updated first", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape(persistent=True) as tape:
        fakes = generator(noise, training=True)
        real_out = discriminator(real, training=True)
        fake_out = discriminator(fakes, training=True)
        losses_now = {"d_loss": discriminator_loss(real_out, fake_out), "g_loss": generator_loss(fake_out)}
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    g_grads = tape.gradient(losses_now["g_loss"], g_vars)
    d_grads = tape.gradient(losses_now["d_loss"], d_vars)
    del tape
    g_optimizer.apply_gradients(zip(g_grads, g_vars))
    d_optimizer.apply_gradients(zip(d_grads, d_vars))
    return losses_now
'''),
    equivalent("01.train_step", "the discriminator called once on real and fake concatenated (no batch norm in D)", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as gt, tf.GradientTape() as dt:
        fakes = generator(noise, training=True)
        both = discriminator(tf.concat([real, fakes], axis=0), training=True)
        n = tf.shape(real)[0]
        r, f = both[:n], both[n:]
        dl = discriminator_loss(r, f)
        gl = generator_loss(f)
    d_optimizer.apply_gradients(zip(dt.gradient(dl, discriminator.trainable_variables), discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(gt.gradient(gl, generator.trainable_variables), generator.trainable_variables))
    return {"d_loss": dl, "g_loss": gl}
'''),
]

# ---------------------------------------------------------------- lesson 02 ----------------------
UP_02 = '''
def upsample_with_skip(x, skip, filters, dropout=False):
    y = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
    y = layers.BatchNormalization()(y)
    if dropout:
        y = layers.Dropout(0.5)(y)
    y = layers.ReLU()(y)
    return layers.Concatenate()([y, skip])
'''

UNET_02 = '''
def build_unet(image_size=256, channels=3, filters=64):
    n = int(round(np.log2(image_size)))
    widths = [min(filters * 2 ** i, 8 * filters) for i in range(n)]
    inp = keras.Input((image_size, image_size, channels))
    h = inp
    skips = []
    for i in range(n - 1):
        h = downsample(h, widths[i], norm=(i != 0))
        skips.append(h)
    h = layers.Conv2D(widths[-1], 4, strides=2, padding="same", kernel_initializer=INIT)(h)
    h = layers.LeakyReLU(negative_slope=0.2)(h)
    for j, (w, s) in enumerate(zip(widths[-2::-1], skips[::-1])):
        h = upsample_with_skip(h, s, w, dropout=(j < 3))
    out = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=INIT, activation="tanh")(h)
    return keras.Model(inp, out)
'''

PATCH_02 = '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    a = keras.Input((image_size, image_size, channels))
    b = keras.Input((image_size, image_size, channels))
    h = layers.Concatenate()([a, b])
    for i in range(n_down):
        h = downsample(h, filters * 2 ** i, norm=(i > 0))
    h = layers.ZeroPadding2D(1)(h)
    h = layers.Conv2D(filters * 2 ** n_down, 4, strides=1, padding="valid", use_bias=False, kernel_initializer=INIT)(h)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(negative_slope=0.2)(h)
    h = layers.ZeroPadding2D(1)(h)
    out = layers.Conv2D(1, 4, strides=1, padding="valid", kernel_initializer=INIT)(h)
    return keras.Model([a, b], out)
'''

RF_02 = '''
def receptive_field(layer_list):
    r = 1
    for k, s, p in reversed(list(layer_list)):
        r = (r - 1) * s + k
    return r
'''

GL_02 = '''
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    adv = bce(tf.ones_like(fake_logits), fake_logits)
    l1 = tf.reduce_mean(tf.abs(target - generated))
    return adv + l1_weight * l1, adv, l1
'''

STEP_02 = '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as gtape, tf.GradientTape() as dtape:
        g_out = generator(x, training=True)
        d_real = discriminator([x, y], training=True)
        d_fake = discriminator([x, g_out], training=True)
        total, adv, l1 = generator_loss(d_fake, g_out, y, l1_weight)
        d_loss = discriminator_loss(d_real, d_fake)
    d_grads = dtape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = gtape.gradient(total, generator.trainable_variables)
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": total, "g_adv": adv, "g_l1": l1}
'''

LESSON02 = [
    wrong("02.upsample_with_skip", "LeakyReLU(0.2) in the decoder, as in the encoder",
          edit(UP_02, "layers.ReLU()(y)", "layers.LeakyReLU(negative_slope=0.2)(y)"), "leaky"),
    wrong("02.upsample_with_skip", "dropout applied always, the flag ignored",
          edit(UP_02, "    if dropout:\n        y = layers.Dropout(0.5)(y)", "    y = layers.Dropout(0.5)(y)"), "dropout"),
    wrong("02.upsample_with_skip", "the transposed convolution keeps its bias before batch norm",
          edit(UP_02, "use_bias=False, ", ""), "bias"),
    equivalent("02.upsample_with_skip", "skip first in the join, relu as an Activation, dropout after the ReLU "
               "(rejected on the blind run; a ReLU and a dropout commute, accepted since)", '''
def upsample_with_skip(x, skip, filters, dropout=False):
    up = layers.Conv2DTranspose(filters, kernel_size=(4, 4), strides=(2, 2), padding="same", use_bias=False,
                                kernel_initializer=INIT)(x)
    up = layers.Activation("relu")(layers.BatchNormalization()(up))
    if dropout:
        up = layers.Dropout(rate=0.5)(up)
    return layers.concatenate([skip, up], axis=-1)
'''),
    wrong("02.unet", "batch norm on the first encoder block too (a miss on the blind run, named since)",
          edit(UNET_02, "norm=(i != 0)", "norm=True"), "first"),
    wrong("02.unet", "the bottleneck is a downsample block (batch norm, no bias), as in the TF tutorial",
          edit(UNET_02, '''    h = layers.Conv2D(widths[-1], 4, strides=2, padding="same", kernel_initializer=INIT)(h)
    h = layers.LeakyReLU(negative_slope=0.2)(h)''', "    h = downsample(h, widths[-1])"), "bottleneck"),
    wrong("02.unet", "dropout in every decoder block",
          edit(UNET_02, "dropout=(j < 3)", "dropout=True"), "dropout"),
    equivalent("02.unet", "recursive-free while loop on the size, skips popped from a stack", '''
def build_unet(image_size=256, channels=3, filters=64):
    inputs = keras.Input(shape=(image_size, image_size, channels))
    stack, widths = [], []
    h, size, i = inputs, image_size, 0
    while size > 2:
        w = min(filters * 2 ** i, filters * 8)
        h = downsample(h, w, norm=i > 0)
        stack.append((h, w))
        size //= 2
        i += 1
    h = layers.Conv2D(min(filters * 2 ** i, filters * 8), 4, strides=2, padding="same", kernel_initializer=INIT)(h)
    h = layers.LeakyReLU(0.2)(h)
    j = 0
    while stack:
        skip, w = stack.pop()
        h = upsample_with_skip(h, skip, w, dropout=j < 3)
        j += 1
    outputs = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh",
                                     kernel_initializer=INIT)(h)
    return keras.Model(inputs=inputs, outputs=outputs)
'''),
    wrong("02.patchgan", "a sigmoid on the output",
          edit(PATCH_02, "layers.Conv2D(1, 4, strides=1, padding=\"valid\", kernel_initializer=INIT)",
               "layers.Conv2D(1, 4, strides=1, padding=\"valid\", activation=\"sigmoid\", kernel_initializer=INIT)"),
          "sigmoid"),
    wrong("02.patchgan", "the target input is never used: the input image joined with itself (a miss on the blind run, named since)",
          edit(PATCH_02, "layers.Concatenate()([a, b])", "layers.Concatenate()([a, a])"), "target"),
    wrong("02.patchgan", "batch norm on the first downsample block (a miss on the blind run, named since)",
          edit(PATCH_02, "norm=(i > 0)", "norm=True"), "first"),
    equivalent("02.patchgan", "target first in the join, ops-free functional concatenate, explicit pad tuples", '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    inp = keras.Input(shape=(image_size, image_size, channels))
    tar = keras.Input(shape=(image_size, image_size, channels))
    h = layers.concatenate([tar, inp])
    width = filters
    for i in range(n_down):
        h = downsample(h, width, norm=i != 0)
        width *= 2
    h = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(h)
    h = layers.Conv2D(width, 4, use_bias=False, kernel_initializer=INIT)(h)
    h = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(h))
    h = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(h)
    return keras.Model(inputs=[inp, tar], outputs=layers.Conv2D(1, 4, kernel_initializer=INIT)(h))
'''),
    wrong("02.receptive_field", "walks the layers from input to output (no reversal) (a miss on the blind run, named since)",
          edit(RF_02, "reversed(list(layer_list))", "layer_list"), "order"),
    wrong("02.receptive_field", "ignores the stride: adds k - 1 per layer",
          edit(RF_02, "r = (r - 1) * s + k", "r = r + k - 1"), "stride"),
    equivalent("02.receptive_field", "forward with the jump (product of strides)", '''
def receptive_field(layer_list):
    field, jump = 1, 1
    for kernel, stride, padding in layer_list:
        field += (kernel - 1) * jump
        jump *= stride
    return field
'''),
    wrong("02.generator_loss", "returns the weighted L1 as the third value",
          edit(GL_02, "return adv + l1_weight * l1, adv, l1", "l1 = l1_weight * l1\n    return adv + l1, adv, l1"), "weight"),
    wrong("02.generator_loss", "L2 (squared error) instead of L1",
          edit(GL_02, "tf.abs(target - generated)", "tf.square(target - generated)"), "square"),
    equivalent("02.generator_loss", "Keras MeanAbsoluteError object, ops", '''
mae = keras.losses.MeanAbsoluteError()
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    gan_term = bce(ops.ones_like(fake_logits), fake_logits)
    l1_term = mae(target, generated)
    return gan_term + l1_weight * l1_term, gan_term, l1_term
'''),
    wrong("02.train_step", "the fake pair uses the real target y instead of the generated image (a miss on the blind run, named since)",
          edit(STEP_02, "discriminator([x, g_out], training=True)", "discriminator([x, y], training=True)"), "fake"),
    wrong("02.train_step", "the discriminator's loss not halved (written inline) (a miss on the blind run, named since)",
          edit(STEP_02, "d_loss = discriminator_loss(d_real, d_fake)",
               "d_loss = bce(tf.ones_like(d_real), d_real) + bce(tf.zeros_like(d_fake), d_fake)"), "half"),
    wrong("02.train_step", "the pair given to the discriminator in the other order, [target, input]",
          edit(STEP_02, "discriminator([x, y], training=True)", "discriminator([y, x], training=True)",
               "discriminator([x, g_out], training=True)", "discriminator([g_out, x], training=True)"), "order"),
    equivalent("02.train_step", "one persistent tape, the generator updated first", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape(persistent=True) as tape:
        generated = generator(x, training=True)
        logits_real = discriminator([x, y], training=True)
        logits_fake = discriminator([x, generated], training=True)
        g_total, g_adv, g_l1 = generator_loss(logits_fake, generated, y, l1_weight=l1_weight)
        d_total = discriminator_loss(logits_real, logits_fake)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    g_grads, d_grads = tape.gradient(g_total, g_vars), tape.gradient(d_total, d_vars)
    del tape
    gen_optimizer.apply_gradients(zip(g_grads, g_vars))
    disc_optimizer.apply_gradients(zip(d_grads, d_vars))
    return dict(d_loss=d_total, g_loss=g_total, g_adv=g_adv, g_l1=g_l1)
'''),
]

# ---------------------------------------------------------------- lesson 03 ----------------------
CYC_03 = '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    fwd = tf.reduce_mean(tf.abs(real_x - cycled_x))
    bwd = tf.reduce_mean(tf.abs(real_y - cycled_y))
    return weight * fwd + weight * bwd
'''

ID_03 = '''
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    g_term = tf.reduce_mean(tf.abs(same_y - real_y))
    f_term = tf.reduce_mean(tf.abs(same_x - real_x))
    return weight * (g_term + f_term)
'''

IN_03 = '''
class InstanceNormalization(layers.Layer):
    def __init__(self, epsilon=1e-5, affine=False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.affine = float(epsilon), bool(affine)

    def build(self, input_shape):
        if self.affine:
            self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

    def call(self, x):
        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        out = (x - mean) / ops.sqrt(var + self.epsilon)
        if self.affine:
            out = out * self.gamma + self.beta
        return out

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}
'''

RES_03 = '''
def my_residual_block(x, filters):
    h = ReflectionPadding2D(1)(x)
    h = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(h)
    h = InstanceNormalization()(h)
    h = layers.ReLU()(h)
    h = ReflectionPadding2D(1)(h)
    h = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(h)
    h = InstanceNormalization()(h)
    return layers.Add()([x, h])
'''

RESNET_03 = '''
def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    inp = keras.Input((image_size, image_size, 3))
    h = ReflectionPadding2D(3)(inp)
    h = conv_norm_relu(h, filters, 7, padding="valid")
    h = conv_norm_relu(h, 2 * filters, 3, strides=2)
    h = conv_norm_relu(h, 4 * filters, 3, strides=2)
    for _ in range(n_blocks):
        h = my_residual_block(h, 4 * filters)
    h = conv_norm_relu(h, 2 * filters, 3, strides=2, transpose=True)
    h = conv_norm_relu(h, filters, 3, strides=2, transpose=True)
    h = ReflectionPadding2D(3)(h)
    out = layers.Conv2D(3, 7, padding="valid", activation="tanh", kernel_initializer=INIT)(h)
    return keras.Model(inp, out)
'''

POOL_03 = '''
class MyImagePool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed = pool_size, seed
        self.images = []
        self.queries = 0

    def draws(self, n):
        u = tf.random.stateless_uniform((n, 2), seed=(self.seed, self.queries)).numpy()
        self.queries += 1
        return u[:, 0], np.minimum((u[:, 1] * self.pool_size).astype(int), self.pool_size - 1)

    def query(self, images):
        coins, slots = self.draws(len(images))
        shown = []
        for i, image in enumerate(images):
            if len(self.images) < self.pool_size:
                self.images.append(image)
                shown.append(image)
            elif coins[i] < 0.5:
                shown.append(self.images[slots[i]])
                self.images[slots[i]] = image
            else:
                shown.append(image)
        return np.stack(shown)
'''

STEP_03 = '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        gx = G(x, training=True)
        fy = F(y, training=True)
        fgx = F(gx, training=True)
        gfy = G(fy, training=True)
        gy = G(y, training=True)
        fx = F(x, training=True)
        dx_real, dy_real = D_X(x, training=True), D_Y(y, training=True)
        dx_fake, dy_fake = D_X(fy, training=True), D_Y(gx, training=True)
        dx_pool = D_X(pool_x.query(fy), training=True)
        dy_pool = D_Y(pool_y.query(gx), training=True)
        cycle = losses.cycle_consistency_loss(x, fgx, cycle_weight) + losses.cycle_consistency_loss(y, gfy, cycle_weight)
        g_loss = losses.generator_loss(dy_fake, form) + cycle + losses.identity_loss(y, gy, identity_weight)
        f_loss = losses.generator_loss(dx_fake, form) + cycle + losses.identity_loss(x, fx, identity_weight)
        dx_loss = losses.discriminator_loss(dx_real, dx_pool, form, halve=True)
        dy_loss = losses.discriminator_loss(dy_real, dy_pool, form, halve=True)
    opt_G.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
    opt_F.apply_gradients(zip(tape.gradient(f_loss, F.trainable_variables), F.trainable_variables))
    opt_DX.apply_gradients(zip(tape.gradient(dx_loss, D_X.trainable_variables), D_X.trainable_variables))
    opt_DY.apply_gradients(zip(tape.gradient(dy_loss, D_Y.trainable_variables), D_Y.trainable_variables))
    del tape
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''

LESSON03 = [
    wrong("03.cycle_loss", "only the forward cycle x -> G(x) -> F(G(x)) (a miss on the blind run, named since)",
          edit(CYC_03, "return weight * fwd + weight * bwd", "return weight * fwd"), "both"),
    wrong("03.cycle_loss", "squared error (L2) instead of L1",
          edit(CYC_03, "tf.abs(real_x - cycled_x)", "tf.square(real_x - cycled_x)",
               "tf.abs(real_y - cycled_y)", "tf.square(real_y - cycled_y)"), "square"),
    equivalent("03.cycle_loss", "keras.ops, one mean over the sum of both", '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    return weight * (ops.mean(ops.abs(cycled_x - real_x)) + ops.mean(ops.abs(cycled_y - real_y)))
'''),
    wrong("03.identity_term", "pairs mixed up: G(y) compared with x and F(x) with y (a miss on the blind run, named since)",
          edit(ID_03, "tf.abs(same_y - real_y)", "tf.abs(same_y - real_x)", "tf.abs(same_x - real_x)", "tf.abs(same_x - real_y)"),
          "pair"),
    wrong("03.identity_term", "the 0.5 applied again on top of the weight 5 (0.5 * weight)",
          edit(ID_03, "return weight * (g_term + f_term)", "return 0.5 * weight * (g_term + f_term)"), "weight"),
    equivalent("03.identity_term", "the course's identity_loss once per generator", '''
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    return losses.identity_loss(real_x, same_x, weight) + losses.identity_loss(real_y, same_y, weight)
'''),
    wrong("03.instance_norm", "statistics over the batch too (axes 0, 1, 2): batch norm",
          edit(IN_03, "axes=[1, 2]", "axes=[0, 1, 2]"), "batch"),
    wrong("03.instance_norm", "statistics over the channels too (axes 1, 2, 3): layer norm",
          edit(IN_03, "axes=[1, 2]", "axes=[1, 2, 3]"), "channel"),
    wrong("03.instance_norm", "epsilon added outside the square root",
          edit(IN_03, "ops.sqrt(var + self.epsilon)", "(ops.sqrt(var) + self.epsilon)"), "epsilon"),
    equivalent("03.instance_norm", "tf.nn.moments and rsqrt", edit(IN_03,
        '''        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        out = (x - mean) / ops.sqrt(var + self.epsilon)''',
        '''        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        out = (x - mean) * tf.math.rsqrt(var + self.epsilon)''')),
    wrong("03.my_residual_block", "a ReLU after the second norm too, before the addition",
          edit(RES_03, "    h = InstanceNormalization()(h)\n    return", "    h = layers.ReLU()(InstanceNormalization()(h))\n    return"),
          "relu"),
    wrong("03.my_residual_block", "no addition of the input: a plain two-conv block",
          edit(RES_03, "return layers.Add()([x, h])", "return h"), "add"),
    wrong("03.my_residual_block", "zero padding (padding='same') instead of reflection padding", '''
def my_residual_block(x, filters):
    h = layers.Conv2D(filters, 3, padding="same", kernel_initializer=INIT)(x)
    h = layers.ReLU()(InstanceNormalization()(h))
    h = layers.Conv2D(filters, 3, padding="same", kernel_initializer=INIT)(h)
    h = InstanceNormalization()(h)
    return layers.Add()([x, h])
''', "reflect"),
    equivalent("03.my_residual_block", "a loop over the two convs, the sum written x + h", '''
def my_residual_block(x, filters):
    h = x
    for i in range(2):
        h = ReflectionPadding2D(padding=1)(h)
        h = layers.Conv2D(filters, (3, 3), strides=1, padding="valid", kernel_initializer=INIT)(h)
        h = InstanceNormalization()(h)
        if i == 0:
            h = layers.Activation("relu")(h)
    return x + h
'''),
    wrong("03.resnet_generator", "one residual block fewer (range(n_blocks - 1))",
          edit(RESNET_03, "range(n_blocks)", "range(n_blocks - 1)"), "block"),
    wrong("03.resnet_generator", "the last conv without tanh",
          edit(RESNET_03, 'activation="tanh", ', ""), "tanh"),
    wrong("03.resnet_generator", "the stem without reflection padding: 7x7 conv with padding='same'",
          edit(RESNET_03, '''    h = ReflectionPadding2D(3)(inp)
    h = conv_norm_relu(h, filters, 7, padding="valid")''', '''    h = conv_norm_relu(inp, filters, 7, padding="same")'''), "reflect"),
    equivalent("03.resnet_generator", "loops over the multipliers for the down and up paths", '''
def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    images = keras.Input(shape=(image_size, image_size, 3))
    h = conv_norm_relu(ReflectionPadding2D(3)(images), filters, 7, padding="valid")
    for mult in (2, 4):
        h = conv_norm_relu(h, filters * mult, 3, strides=2, padding="same")
    for _ in range(n_blocks):
        h = my_residual_block(h, filters * 4)
    for mult in (2, 1):
        h = conv_norm_relu(h, filters * mult, 3, strides=2, transpose=True, padding="same")
    h = layers.Conv2D(3, 7, kernel_initializer=INIT)(ReflectionPadding2D(3)(h))
    return keras.Model(images, layers.Activation("tanh")(h))
'''),
    wrong("03.image_pool", "keeps the last pool_size fakes (a queue) and always shows the new one (a miss on the blind run, named since)",
          edit(POOL_03, '''            elif coins[i] < 0.5:
                shown.append(self.images[slots[i]])
                self.images[slots[i]] = image
            else:
                shown.append(image)''', '''            else:
                self.images.pop(0)
                self.images.append(image)
                shown.append(image)'''), "random"),
    wrong("03.image_pool", "the coin read the other way round (heads when >= 0.5)",
          edit(POOL_03, "coins[i] < 0.5", "coins[i] >= 0.5"), "coin"),
    wrong("03.image_pool", "on heads the new fake goes into the slot but the new one is shown, not the old",
          edit(POOL_03, "shown.append(self.images[slots[i]])\n                self.images[slots[i]] = image",
               "self.images[slots[i]] = image\n                shown.append(self.images[slots[i]])"), "old"),
    equivalent("03.image_pool", "tails tested first, tuple swap on heads", '''
class MyImagePool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed = pool_size, seed
        self.images = []
        self.queries = 0

    def draws(self, n):
        u = tf.random.stateless_uniform((n, 2), seed=(self.seed, self.queries)).numpy()
        self.queries += 1
        return u[:, 0], np.minimum((u[:, 1] * self.pool_size).astype(int), self.pool_size - 1)

    def query(self, images):
        coins, slots = self.draws(len(images))
        out = []
        for new, coin, slot in zip(images, coins, slots):
            if len(self.images) >= self.pool_size and coin >= 0.5:
                out.append(new)
            elif len(self.images) >= self.pool_size:
                self.images[slot], old = new, self.images[slot]
                out.append(old)
            else:
                self.images.append(new)
                out.append(new)
        return np.stack(out)
'''),
    wrong("03.train_step", "no image pool: the discriminators judge the newest fakes",
          edit(STEP_03, "D_X(pool_x.query(fy), training=True)", "D_X(fy, training=True)",
               "D_Y(pool_y.query(gx), training=True)", "D_Y(gx, training=True)"), "pool"),
    wrong("03.train_step", "the cycle loss only in G's loss, not in F's (a miss on the blind run, named since)",
          edit(STEP_03, "losses.generator_loss(dx_fake, form) + cycle +", "losses.generator_loss(dx_fake, form) +"), "cycle"),
    wrong("03.train_step", "identity terms swapped between the generators: G's uses F(x) ~ x (a miss on the blind run, named since)",
          edit(STEP_03, "losses.identity_loss(y, gy, identity_weight)", "losses.identity_loss(x, fx, identity_weight)__G",
               "losses.identity_loss(x, fx, identity_weight)\n", "losses.identity_loss(y, gy, identity_weight)\n",
               "__G", ""), "identity"),
    wrong("03.train_step", "an ordinary (non-persistent) tape used for four gradients",
          edit(STEP_03, "tf.GradientTape(persistent=True)", "tf.GradientTape()", "    del tape\n", ""), "persistent"),
    equivalent("03.train_step", "four tapes, the discriminators updated first", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape() as tg, tf.GradientTape() as tf_, tf.GradientTape() as tdx, tf.GradientTape() as tdy:
        fake_y = G(x, training=True)
        fake_x = F(y, training=True)
        back_x = F(fake_y, training=True)
        back_y = G(fake_x, training=True)
        id_y = G(y, training=True)
        id_x = F(x, training=True)
        cyc = losses.cycle_consistency_loss(x, back_x, cycle_weight) + losses.cycle_consistency_loss(y, back_y, cycle_weight)
        g_loss = (losses.generator_loss(D_Y(fake_y, training=True), form) + cyc
                  + losses.identity_loss(y, id_y, identity_weight))
        f_loss = (losses.generator_loss(D_X(fake_x, training=True), form) + cyc
                  + losses.identity_loss(x, id_x, identity_weight))
        dx_loss = losses.discriminator_loss(D_X(x, training=True), D_X(pool_x.query(fake_x), training=True),
                                            form, halve=True)
        dy_loss = losses.discriminator_loss(D_Y(y, training=True), D_Y(pool_y.query(fake_y), training=True),
                                            form, halve=True)
    grads = [(tdx, dx_loss, D_X, opt_DX), (tdy, dy_loss, D_Y, opt_DY), (tg, g_loss, G, opt_G), (tf_, f_loss, F, opt_F)]
    computed = [(t.gradient(l, n.trainable_variables), n, o) for t, l, n, o in grads]
    for g, n, o in computed:
        o.apply_gradients(zip(g, n.trainable_variables))
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cyc}
'''),
]

# ---------------------------------------------------------------- lesson 04 ----------------------
LS_04 = '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if not finite:
        return scale / 2, 0, False
    good_steps += 1
    if good_steps == growth_steps:
        return scale * 2, 0, True
    return scale, good_steps, True
'''

LD_04 = '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    t = np.asarray(step, dtype=np.float64)
    return lr0 * np.clip(1.0 - (t - constant_steps) / decay_steps, 0.0, 1.0)
'''

LESSON04 = [
    wrong("04.update_loss_scale", "an overflow halves S but keeps the count of good steps",
          edit(LS_04, "return scale / 2, 0, False", "return scale / 2, good_steps, False"), "count"),
    wrong("04.update_loss_scale", "the update applied at an overflow too (a miss on the blind run, named since)",
          edit(LS_04, "return scale / 2, 0, False", "return scale / 2, 0, True"), "skip"),
    equivalent("04.update_loss_scale", "one return, a >= test, 0.5 * scale", '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    new_scale, new_count = scale, good_steps + 1
    if not finite:
        new_scale, new_count = 0.5 * scale, 0
    elif new_count >= growth_steps:
        new_scale, new_count = 2.0 * scale, 0
    return new_scale, new_count, bool(finite)
'''),
    wrong("04.linear_decay", "PyTorch's epoch rule: divided by decay_steps + 1, never reaches zero (a miss on the blind run, named since)",
          edit(LD_04, "/ decay_steps", "/ (decay_steps + 1)"), "zero"),
    wrong("04.linear_decay", "no lower clip: the rate goes negative after the decay (a miss on the blind run, named since)",
          edit(LD_04, "np.clip(1.0 - (t - constant_steps) / decay_steps, 0.0, 1.0)",
               "np.minimum(1.0 - (t - constant_steps) / decay_steps, 1.0)"), "negative"),
    equivalent("04.linear_decay", "np.interp between the two corners", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    return np.interp(np.asarray(step, dtype=float), [constant_steps, constant_steps + decay_steps], [lr0, 0.0])
'''),
]

ENTRIES = LESSON01 + LESSON02 + LESSON03 + LESSON04
