"""Lesson 03 (CycleGAN): answers to the loss, instance-norm, residual-block, generator, pool and step exercises."""

from checker_catalogue import edit, equivalent, wrong

CYC = '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    forward = tf.reduce_mean(tf.abs(cycled_x - real_x))
    backward = tf.reduce_mean(tf.abs(cycled_y - real_y))
    return weight * (forward + backward)
'''

IDT = '''
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    return weight * (tf.reduce_mean(tf.abs(same_y - real_y)) + tf.reduce_mean(tf.abs(same_x - real_x)))
'''

NORM = '''
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
        y = (x - mean) / ops.sqrt(var + self.epsilon)
        if self.affine:
            y = y * self.gamma + self.beta
        return y
'''

RES = '''
def my_residual_block(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)
    y = InstanceNormalization()(y)
    return layers.Add()([x, y])
'''

GEN = '''
def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    inp = keras.Input((image_size, image_size, 3))
    x = ReflectionPadding2D(3)(inp)
    x = conv_norm_relu(x, filters, 7, padding="valid")
    x = conv_norm_relu(x, filters * 2, 3, strides=2)
    x = conv_norm_relu(x, filters * 4, 3, strides=2)
    for _ in range(n_blocks):
        x = my_residual_block(x, filters * 4)
    x = conv_norm_relu(x, filters * 2, 3, strides=2, transpose=True)
    x = conv_norm_relu(x, filters, 3, strides=2, transpose=True)
    x = ReflectionPadding2D(3)(x)
    out = layers.Conv2D(3, 7, activation="tanh", kernel_initializer=INIT)(x)
    return keras.Model(inp, out)
'''

POOL = '''
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
                old = self.images[slots[i]]
                self.images[slots[i]] = image
                shown.append(old)
            else:
                shown.append(image)
        return np.stack(shown)
'''

STEP = '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        fake_y = G(x, training=True)
        cycled_x = F(fake_y, training=True)
        fake_x = F(y, training=True)
        cycled_y = G(fake_x, training=True)
        same_y = G(y, training=True)
        same_x = F(x, training=True)
        score_real_x, score_real_y = D_X(x, training=True), D_Y(y, training=True)
        score_fake_x, score_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)
        score_pool_x = D_X(pool_x.query(fake_x), training=True)
        score_pool_y = D_Y(pool_y.query(fake_y), training=True)
        cycle = (losses.cycle_consistency_loss(x, cycled_x, cycle_weight)
                 + losses.cycle_consistency_loss(y, cycled_y, cycle_weight))
        g_loss = losses.generator_loss(score_fake_y, form) + cycle + losses.identity_loss(y, same_y, identity_weight)
        f_loss = losses.generator_loss(score_fake_x, form) + cycle + losses.identity_loss(x, same_x, identity_weight)
        dx_loss = losses.discriminator_loss(score_real_x, score_pool_x, form, halve=True)
        dy_loss = losses.discriminator_loss(score_real_y, score_pool_y, form, halve=True)
    for loss, net, opt in ((g_loss, G, opt_G), (f_loss, F, opt_F), (dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)):
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
    del tape
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''

K = "03.cycle_loss"
ENTRIES = [
    wrong(K, "only the round trip from X", edit(CYC, "weight * (forward + backward)", "weight * forward"), "one direction"),
    wrong(K, "only the round trip from Y", edit(CYC, "weight * (forward + backward)", "weight * backward"), "one direction"),
    wrong(K, "only the round trip from Y, with Keras's MeanAbsoluteError", '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    return weight * keras.losses.MeanAbsoluteError()(real_y, cycled_y)
''', "one direction", "both"),
    wrong(K, "squared distances", CYC.replace("tf.abs(", "tf.square("), "squared"),
    wrong(K, "the two directions averaged", edit(CYC, "weight * (forward + backward)", "weight * (forward + backward) / 2"), "averaged"),
    wrong(K, "each round trip against the other domain", edit(CYC, "cycled_x - real_x", "cycled_x - real_y", "cycled_y - real_y", "cycled_y - real_x"),
          "started from"),
    equivalent(K, "keras MeanAbsoluteError", edit(CYC, "tf.reduce_mean(tf.abs(cycled_x - real_x))", "keras.losses.MeanAbsoluteError()(real_x, cycled_x)")),
]

K = "03.identity_term"
ENTRIES += [
    wrong(K, "against the other domain", edit(IDT, "same_y - real_y", "same_y - real_x", "same_x - real_x", "same_x - real_y"), "other domain"),
    wrong(K, "pairs mixed up, with the course's identity_loss", '''
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    return losses.identity_loss(real_x, same_y, weight) + losses.identity_loss(real_y, same_x, weight)
''', "other domain", "pair"),
    wrong(K, "twice the weight", edit(IDT, "return weight *", "return 2 * weight *"), "twice"),
    wrong(K, "only G's term", edit(IDT, " + tf.reduce_mean(tf.abs(same_x - real_x))", ""), "F's"),
]

K = "03.instance_norm"
ENTRIES += [
    wrong(K, "statistics over the batch too (batch norm)", edit(NORM, "axes=[1, 2]", "axes=[0, 1, 2]"), "batch"),
    wrong(K, "statistics over the channels too (layer norm)", edit(NORM, "axes=[1, 2]", "axes=[1, 2, 3]"), "channel"),
    wrong(K, "no epsilon", edit(NORM, "ops.sqrt(var + self.epsilon)", "ops.sqrt(var)"), "zero"),
    wrong(K, "epsilon outside the root", edit(NORM, "ops.sqrt(var + self.epsilon)", "(ops.sqrt(var) + self.epsilon)"), "square root"),
    wrong(K, "divided by the variance", edit(NORM, "ops.sqrt(var + self.epsilon)", "(var + self.epsilon)"), "variance"),
    wrong(K, "affine forgotten", edit(NORM, "            y = y * self.gamma + self.beta", "            pass"), "scale and offset"),
    wrong(K, "statistics over the height only", edit(NORM, "axes=[1, 2]", "axes=[1]"), "axes"),
    equivalent(K, "tf.nn.moments", edit(NORM, "ops.moments(x, axes=[1, 2], keepdims=True)", "tf.nn.moments(x, axes=[1, 2], keepdims=True)")),
    equivalent(K, "mean and variance written out, rsqrt", edit(NORM, '''        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        y = (x - mean) / ops.sqrt(var + self.epsilon)''', '''        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        var = ops.mean(ops.square(x - mean), axis=(-3, -2), keepdims=True)
        y = (x - mean) * ops.rsqrt(var + self.epsilon)''')),
]

K = "03.my_residual_block"
ENTRIES += [
    wrong(K, "no addition", edit(RES, "return layers.Add()([x, y])", "return y"), "skip"),
    wrong(K, "ReLU after the addition", edit(RES, "return layers.Add()([x, y])", "return layers.ReLU()(layers.Add()([x, y]))"), "activation"),
    wrong(K, "zero padding", RES.replace("ReflectionPadding2D(1)", "layers.ZeroPadding2D(1)"), "padding"),
    wrong(K, "Keras's default initializer", RES.replace(", kernel_initializer=INIT", ""), "standard deviation"),
    wrong(K, "batch norm", RES.replace("InstanceNormalization()", "layers.BatchNormalization()"), "normalisation"),
    wrong(K, "a ReLU after the second norm too", edit(RES, '''    y = InstanceNormalization()(y)
    return''', '''    y = layers.ReLU()(InstanceNormalization()(y))
    return'''), "activation"),
    wrong(K, "'same' padding, no reflection", RES.replace("    y = ReflectionPadding2D(1)(x)\n", "    y = x\n").replace(
        "    y = ReflectionPadding2D(1)(y)\n", "").replace('padding="valid"', 'padding="same"'), "padding"),
    equivalent(K, "x + y", edit(RES, "return layers.Add()([x, y])", "return x + y")),
    equivalent(K, "GroupNormalization(groups=-1) without scale and offset, Add the other way", RES.replace(
        "InstanceNormalization()", "layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)").replace(
        "layers.Add()([x, y])", "layers.Add()([y, x])")),
]

K = "03.resnet_generator"
ENTRIES += [
    wrong(K, "zero padding", GEN.replace("ReflectionPadding2D(3)", "layers.ZeroPadding2D(3)"), "padding"),
    wrong(K, "no tanh", edit(GEN, 'activation="tanh", ', ""), "activation"),
    wrong(K, "three downsamplings", edit(GEN, "    x = conv_norm_relu(x, filters * 4, 3, strides=2)\n",
                                         "    x = conv_norm_relu(x, filters * 4, 3, strides=2)\n    x = conv_norm_relu(x, filters * 4, 3, strides=2)\n"),
          "count the blocks"),
    wrong(K, "one residual block too few", edit(GEN, "range(n_blocks)", "range(n_blocks - 1)"), "residual blocks"),
    wrong(K, "a 3x3 first convolution", edit(GEN, "conv_norm_relu(x, filters, 7,", "conv_norm_relu(x, filters, 3,"), "kernel"),
    wrong(K, "upsampling by UpSampling2D and a conv", edit(GEN, "x = conv_norm_relu(x, filters * 2, 3, strides=2, transpose=True)",
                                                       "x = conv_norm_relu(layers.UpSampling2D()(x), filters * 2, 3)",
                                                       "x = conv_norm_relu(x, filters, 3, strides=2, transpose=True)",
                                                       "x = conv_norm_relu(layers.UpSampling2D()(x), filters, 3)"), "stride"),
    wrong(K, "sigmoid output", edit(GEN, 'activation="tanh"', 'activation="sigmoid"'), "activation"),
    equivalent(K, "a separate tanh layer", edit(GEN, 'out = layers.Conv2D(3, 7, activation="tanh", kernel_initializer=INIT)(x)',
                                                'out = layers.Activation("tanh")(layers.Conv2D(3, 7, kernel_initializer=INIT)(x))')),
    equivalent(K, "the blocks written inline with x + y", edit(GEN, "        x = my_residual_block(x, filters * 4)", '''        y = ReflectionPadding2D(1)(x)
        y = InstanceNormalization()(layers.Conv2D(filters * 4, 3, kernel_initializer=INIT)(y))
        y = ReflectionPadding2D(1)(layers.ReLU()(y))
        y = InstanceNormalization()(layers.Conv2D(filters * 4, 3, kernel_initializer=INIT)(y))
        x = x + y''')),
]

K = "03.image_pool"
ENTRIES += [
    wrong(K, "always the new image", edit(POOL, "elif coins[i] < 0.5:", "elif False:"), "coin"),
    wrong(K, "always an old one", edit(POOL, "elif coins[i] < 0.5:", "elif True:"), "coin"),
    wrong(K, "the new image not stored on a swap", edit(POOL, "                self.images[slots[i]] = image\n", ""), "takes its place"),
    wrong(K, "the coin read the other way", edit(POOL, "elif coins[i] < 0.5:", "elif coins[i] >= 0.5:"), "coins"),
    wrong(K, "appends on a swap instead of replacing", edit(POOL, "self.images[slots[i]] = image", "self.images.append(image)"), "pool_size"),
    wrong(K, "a deque of the newest fakes, the new one always shown", '''
import collections

class MyImagePool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed = pool_size, seed
        self.images = collections.deque(maxlen=pool_size)
        self.queries = 0

    def query(self, images):
        self.queries += 1
        for image in images:
            self.images.append(np.array(image, copy=True))
        return np.asarray(images)
''', "queue", "random"),
    wrong(K, "a queue that hands out the oldest fake", edit(POOL, '''            elif coins[i] < 0.5:
                old = self.images[slots[i]]
                self.images[slots[i]] = image
                shown.append(old)
            else:
                shown.append(image)''', '''            else:
                shown.append(self.images.pop(0))
                self.images.append(image)'''), "queue", "random"),
    wrong(K, "old images returned while filling", edit(POOL, '''                self.images.append(image)
                shown.append(image)''', '''                self.images.append(image)
                shown.append(self.images[0])'''), "not full"),
    equivalent(K, "a swap in one line, copies kept", edit(POOL, '''                old = self.images[slots[i]]
                self.images[slots[i]] = image
                shown.append(old)''', '''                self.images[slots[i]], image = np.array(image, copy=True), self.images[slots[i]]
                shown.append(image)''')),
    equivalent(K, "output built in place", edit(POOL, '''        shown = []
        for i, image in enumerate(images):''', '''        shown = []
        images = np.asarray(images)
        for i, image in enumerate(images):''', "return np.stack(shown)", "return np.array(shown, dtype=images.dtype)")),
]

K = "03.train_step"
ENTRIES += [
    wrong(K, "no pool: the discriminators see the newest fakes", edit(STEP, "D_X(pool_x.query(fake_x), training=True)", "D_X(fake_x, training=True)",
                                                                     "D_Y(pool_y.query(fake_y), training=True)", "D_Y(fake_y, training=True)"), "pool"),
    wrong(K, "the pools' fakes for the generators too", edit(STEP, "losses.generator_loss(score_fake_y, form)", "losses.generator_loss(score_pool_y, form)",
                                                         "losses.generator_loss(score_fake_x, form)", "losses.generator_loss(score_pool_x, form)"), "pool"),
    wrong(K, "a one-direction cycle loss", edit(STEP, '''        cycle = (losses.cycle_consistency_loss(x, cycled_x, cycle_weight)
                 + losses.cycle_consistency_loss(y, cycled_y, cycle_weight))''', '''        cycle = losses.cycle_consistency_loss(x, cycled_x, cycle_weight)'''), "one direction"),
    wrong(K, "no identity terms", edit(STEP, " + losses.identity_loss(y, same_y, identity_weight)", "",
                                       " + losses.identity_loss(x, same_x, identity_weight)", ""), "identity"),
    wrong(K, "the cycle loss only in F's loss", edit(STEP, "g_loss = losses.generator_loss(score_fake_y, form) + cycle +",
                                                    "g_loss = losses.generator_loss(score_fake_y, form) +"), "cycle", "both generators"),
    wrong(K, "each identity term in the other generator's loss, written out", edit(STEP,
          "+ cycle + losses.identity_loss(y, same_y, identity_weight)", "+ cycle + identity_weight * tf.reduce_mean(tf.abs(same_x - x))",
          "+ cycle + losses.identity_loss(x, same_x, identity_weight)", "+ cycle + identity_weight * tf.reduce_mean(tf.abs(same_y - y))"),
          "identity", "own"),
    wrong(K, "discriminator losses not halved", STEP.replace("halve=True", "halve=False"), "halve"),
    wrong(K, "alternating: generators first, discriminators on the new fakes", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        fake_y, fake_x = G(x, training=True), F(y, training=True)
        cycle = (losses.cycle_consistency_loss(x, F(fake_y, training=True), cycle_weight)
                 + losses.cycle_consistency_loss(y, G(fake_x, training=True), cycle_weight))
        g_loss = losses.generator_loss(D_Y(fake_y, training=True), form) + cycle + losses.identity_loss(y, G(y, training=True), identity_weight)
        f_loss = losses.generator_loss(D_X(fake_x, training=True), form) + cycle + losses.identity_loss(x, F(x, training=True), identity_weight)
    for loss, net, opt in ((g_loss, G, opt_G), (f_loss, F, opt_F)):
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    with tf.GradientTape(persistent=True) as tape:
        new_fake_x, new_fake_y = F(y, training=True), G(x, training=True)
        dx_loss = losses.discriminator_loss(D_X(x, training=True), D_X(pool_x.query(new_fake_x), training=True), form, halve=True)
        dy_loss = losses.discriminator_loss(D_Y(y, training=True), D_Y(pool_y.query(new_fake_y), training=True), form, halve=True)
    for loss, net, opt in ((dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)):
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
''', "order", "alternating"),
    wrong(K, "optimizers of G and F swapped", edit(STEP, "((g_loss, G, opt_G), (f_loss, F, opt_F)", "((g_loss, G, opt_F), (f_loss, F, opt_G)"), "optimizer"),
    wrong(K, "an ordinary tape asked four times", edit(STEP, "tf.GradientTape(persistent=True)", "tf.GradientTape()"), "persistent"),
    wrong(K, "forward pass before the tape", edit(STEP, '''    with tf.GradientTape(persistent=True) as tape:
        fake_y = G(x, training=True)
        cycled_x = F(fake_y, training=True)
        fake_x = F(y, training=True)
        cycled_y = G(fake_x, training=True)
        same_y = G(y, training=True)
        same_x = F(x, training=True)
        score_real_x, score_real_y = D_X(x, training=True), D_Y(y, training=True)
        score_fake_x, score_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)
        score_pool_x = D_X(pool_x.query(fake_x), training=True)
        score_pool_y = D_Y(pool_y.query(fake_y), training=True)''', '''    fake_y = G(x, training=True)
    cycled_x = F(fake_y, training=True)
    fake_x = F(y, training=True)
    cycled_y = G(fake_x, training=True)
    same_y = G(y, training=True)
    same_x = F(x, training=True)
    score_real_x, score_real_y = D_X(x, training=True), D_Y(y, training=True)
    score_fake_x, score_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)
    score_pool_x = D_X(pool_x.query(fake_x), training=True)
    score_pool_y = D_Y(pool_y.query(fake_y), training=True)
    with tf.GradientTape(persistent=True) as tape:'''), "tape", "with"),
    equivalent(K, "four tapes, one per network", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape() as g_tape, tf.GradientTape() as f_tape, tf.GradientTape() as dx_tape, tf.GradientTape() as dy_tape:
        fake_y, fake_x = G(x, training=True), F(y, training=True)
        cycled_x, cycled_y = F(fake_y, training=True), G(fake_x, training=True)
        same_y, same_x = G(y, training=True), F(x, training=True)
        score_real_x, score_real_y = D_X(x, training=True), D_Y(y, training=True)
        score_fake_x, score_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)
        score_pool_y = D_Y(pool_y.query(tf.stop_gradient(fake_y)), training=True)
        score_pool_x = D_X(pool_x.query(tf.stop_gradient(fake_x)), training=True)
        cycle = tf.add_n([losses.cycle_consistency_loss(x, cycled_x, cycle_weight),
                          losses.cycle_consistency_loss(y, cycled_y, cycle_weight)])
        g_loss = losses.generator_loss(score_fake_y, form) + cycle + losses.identity_loss(y, same_y, identity_weight)
        f_loss = losses.generator_loss(score_fake_x, form) + cycle + losses.identity_loss(x, same_x, identity_weight)
        dx_loss = losses.discriminator_loss(score_real_x, score_pool_x, form, halve=True)
        dy_loss = losses.discriminator_loss(score_real_y, score_pool_y, form, halve=True)
    for tape, loss, net, opt in ((dx_tape, dx_loss, D_X, opt_DX), (dy_tape, dy_loss, D_Y, opt_DY),
                                 (g_tape, g_loss, G, opt_G), (f_tape, f_loss, F, opt_F)):
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''),
    equivalent(K, "the discriminators' losses written out (LSGAN by hand when form is lsgan)", edit(STEP, '''        dx_loss = losses.discriminator_loss(score_real_x, score_pool_x, form, halve=True)
        dy_loss = losses.discriminator_loss(score_real_y, score_pool_y, form, halve=True)''', '''        if form == "lsgan":
            dx_loss = 0.5 * (tf.reduce_mean(tf.square(score_real_x - 1)) + tf.reduce_mean(tf.square(score_pool_x)))
            dy_loss = 0.5 * (tf.reduce_mean(tf.square(score_real_y - 1)) + tf.reduce_mean(tf.square(score_pool_y)))
        else:
            dx_loss = losses.discriminator_loss(score_real_x, score_pool_x, form, halve=True)
            dy_loss = losses.discriminator_loss(score_real_y, score_pool_y, form, halve=True)''')),
]

# Named since the blind2 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong("03.cycle_loss", "ops.sum over every value", CYC.replace("tf.reduce_mean(", "ops.sum("), "mean", "sum"),
    wrong("03.identity_term", "squares written with ** 2",
          edit(IDT, "tf.abs(same_y - real_y)", "(same_y - real_y) ** 2", "tf.abs(same_x - real_x)", "(same_x - real_x) ** 2"),
          "squared", "L1"),
    wrong("03.identity_term", "each image's pixels summed, the batch averaged",
          edit(IDT, "tf.reduce_mean(tf.abs(same_y - real_y))", "tf.reduce_mean(tf.reduce_sum(tf.abs(same_y - real_y), axis=[1, 2, 3]))",
               "tf.reduce_mean(tf.abs(same_x - real_x))", "tf.reduce_mean(tf.reduce_sum(tf.abs(same_x - real_x), axis=[1, 2, 3]))"),
          "mean"),
    wrong("03.instance_norm", "beta scales and gamma shifts",
          edit(NORM, "y = y * self.gamma + self.beta", "y = self.gamma + self.beta * y"), "gamma", "beta"),
    wrong("03.instance_norm", "ops.mean and ops.var without keepdims",
          edit(NORM, "mean, var = ops.moments(x, axes=[1, 2], keepdims=True)",
               "mean, var = ops.mean(x, axis=(1, 2)), ops.var(x, axis=(1, 2))"), "keepdims"),
    wrong("03.instance_norm", "rsqrt of var + 0.001",
          edit(NORM, "y = (x - mean) / ops.sqrt(var + self.epsilon)", "y = (x - mean) * ops.rsqrt(var + 0.001)"), "epsilon"),
    wrong(K, "each generator's own round trip only, written as two named terms",
          edit(STEP, "g_loss = losses.generator_loss(score_fake_y, form) + cycle",
               "forward = losses.cycle_consistency_loss(x, cycled_x, cycle_weight)\n"
               "        backward = losses.cycle_consistency_loss(y, cycled_y, cycle_weight)\n"
               "        g_loss = losses.generator_loss(score_fake_y, form) + forward",
               "f_loss = losses.generator_loss(score_fake_x, form) + cycle", "f_loss = losses.generator_loss(score_fake_x, form) + backward"),
          "both"),
    wrong(K, "each direction multiplied by cycle_weight once more",
          edit(STEP, "losses.cycle_consistency_loss(x, cycled_x, cycle_weight)", "cycle_weight * losses.cycle_consistency_loss(x, cycled_x, cycle_weight)",
               "+ losses.cycle_consistency_loss(y, cycled_y, cycle_weight)", "+ cycle_weight * losses.cycle_consistency_loss(y, cycled_y, cycle_weight)"),
          "weight", "once"),
    wrong(K, "each generator judged by the other domain's discriminator",
          edit(STEP, "score_fake_x, score_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)",
               "score_fake_y, score_fake_x = D_X(fake_y, training=True), D_Y(fake_x, training=True)"), "domain", "D_Y"),
]

# Named since the blind3 run (issue 33): one more spelling of each mistake it found missed.
ENTRIES += [
    wrong(K, "both identity terms on the input domain, written out",
          edit(STEP, "losses.identity_loss(y, same_y, identity_weight)",
               "identity_weight * tf.reduce_mean(tf.abs(G(x, training=True) - x))",
               "losses.identity_loss(x, same_x, identity_weight)",
               "identity_weight * tf.reduce_mean(tf.abs(F(y, training=True) - y))"), "identity", "G(y)"),
]
