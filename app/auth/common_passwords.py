"""The commonest passwords of 8 or more characters (lower case): the ones worth refusing, since
shorter ones fail the length rule anyway. Gathered from public breach-frequency lists (the
usual English top lists and the Chinese favourites such as woaini1314, 1qaz2wsx, 5201314…)."""

COMMON_PASSWORDS = frozenset("""
!@#$%^&* !@#$%^&*( !qaz2wsx !qaz@wsx 00000000 0123456789 1!2@3#4$ 11111111 11112222 11223344
12121212 123!@#qwe 123123123 123321123 1234!@#$ 12341234 12344321 12345678 123456789 1234567890
123456789a 123456789q 12345678a 12345678q 123456aa 123456abc 123456qq 123456qwe 1234abcd
1234asdf 1234qwer 123654789 12369874 123qwe123 123qweasd 123qweasdzxc 12qwaszx 12qwerty
13131313 13145200 1314520520 1314woaini 147258369 147852369 159357456 1a2b3c4d 1q2w3e4r
1q2w3e4r! 1q2w3e4r5t 1q2w3e4r5t6y 1qaz!qaz 1qaz2wsx 1qaz2wsx3edc 1qaz@wsx 1qazxsw2 1z2x3c4v
22222222 321654987 456789123 52013145 5201314520 66666666 741852963 789456123 87654321 88888888
963852741 987654321 9876543210 99999999 a1234567 a12345678 a123456789 a1b2c3d4 a1s2d3f4
aa123456 aa12345678 aa123456789 aaa12345 aaaaaaa1 aabbccdd abc12345 abc123456 abc123abc
abc@1234 abcabcabc abcd1234 abcd12345 abcd@1234 abcdefg1 abcdefgh access14 admin!@# admin#123
admin123 admin1234 admin12345 admin888 admin8888 admin@123 adminadmin administrator
administrator1 aini1314 arsenal1 asd12345 asdf1234 asdf123456 asdfasdf asdfghjkl asdfghjkl123
ashley12 backup123 baseball baseball1 basketball batman123 beautiful changeme changeme1
changeme123 charlie1 chelsea1 chen123456 computer computer1 contrasena corvette daniel12
default1 default123 demo1234 dragon12 dragon123 ferrari1 football football! football1 forever1
freedom1 guest123 huang123 hunter12 hunter123 iloveyou iloveyou1 iloveyou2 internet internet1
jennifer jennifer1 jessica1 jordan23 killer12 letmein! letmein1 letmein123 li123456 liu123456
liverpool lovelove loveme12 loveyou1 manager1 master12 master123 mercedes michael1 michelle
monkey12 monkey123 motdepasse mustang1 mysql123 nicole12 oracle123 p@55w0rd p@ssw0rd p@ssw0rd1
p@ssw0rd123 p@ssword pa55w0rd pa55word passport passw0rd password password! password1
password12 password123 password1234 password2 password3 password@ passwort passwort1 pokemon1
postgres123 princess princess1 q123456789 q1w2e3r4 q1w2e3r4t5 qazwsxedc qazwsxedcrfv qazxswedc
qq123456 qq1234567 qq12345678 qwe!@#123 qwe12345 qwe123456 qwe123qwe qweasdzxc qweqweqwe
qwer1234 qwerty12 qwerty123 qwerty1234 qwertyui qwertyuiop qwertyuiop123 root1234 root12345
root@123 rootroot secret12 secret123 server123 shadow12 shadow123 starwars starwars1 sunshine
sunshine1 superman superman1 system123 temp1234 temporary test1234 test12345 testtest toortoor
trustno1 user1234 user12345 w123456789 wang123456 wangyang welcome1 welcome12 welcome123
whatever whatever! whatever1 woaini123 woaini1314 woaini520 woaiwojia woshiniba woshishui
xiaoming xiaoxiao yangyang z123456789 z1x2c3v4 zaq12wsx zaq1xsw2 zhang123456 zhangwei zxc12345
zxc123456 zxcvbnm,./ zxcvbnm1 zxcvbnm123 zxcvbnma zz123456
""".split())
